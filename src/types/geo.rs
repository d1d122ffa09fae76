//! The geo type (see DESIGN.md, "Key encoding"). Written by the geo work; empty until then.
