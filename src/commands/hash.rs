//! hash commands. Empty until the hash work lands.
