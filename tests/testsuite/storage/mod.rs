//! The storage backends: the conformance suite (feature `testing`) and each backend's specifics.
mod conformance;
mod differential;
mod memory;
mod native;
mod read_only;
