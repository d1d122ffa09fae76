//! list commands. Empty until the list work lands.
