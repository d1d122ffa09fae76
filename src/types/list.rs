//! The list type (see DESIGN.md, "Key encoding"). Written by the list work; empty until then.
