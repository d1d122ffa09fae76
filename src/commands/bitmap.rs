//! bitmap commands. Empty until the bitmap work lands.
