//! Shared command-line behaviour of the IVRE tools.
