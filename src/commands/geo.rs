//! geo commands. Empty until the geo work lands.
