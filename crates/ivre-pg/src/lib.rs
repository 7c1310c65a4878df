//! PostgreSQL storage for IVRE.
