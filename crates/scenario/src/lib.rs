//! delever-scenario (being assembled)
