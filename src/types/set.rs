//! The set type (see DESIGN.md, "Key encoding"). Written by the set work; empty until then.
