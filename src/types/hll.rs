//! The hll type (see DESIGN.md, "Key encoding"). Written by the hll work; empty until then.
