//! hll commands. Empty until the hll work lands.
