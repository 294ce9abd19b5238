//! delever-report (being assembled)
