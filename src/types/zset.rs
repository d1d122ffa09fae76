//! The zset type (see DESIGN.md, "Key encoding"). Written by the zset work; empty until then.
