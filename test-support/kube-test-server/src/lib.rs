//! kts
