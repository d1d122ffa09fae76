//! set commands. Empty until the set work lands.
