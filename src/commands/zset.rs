//! zset commands. Empty until the zset work lands.
