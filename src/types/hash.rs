//! The hash type (see DESIGN.md, "Key encoding"). Written by the hash work; empty until then.
