//! The bitmap type (see DESIGN.md, "Key encoding"). Written by the bitmap work; empty until then.
