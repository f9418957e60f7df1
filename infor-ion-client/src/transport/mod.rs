//! Moving BODs: sending them to ION ([`ims`]) and reading published ones from the Data Lake
//! ([`datalake`]).

pub mod datalake;
pub mod ims;

pub use datalake::{DataLake, PayloadRef, Published};
pub use ims::{Ims, ParameterRequest};
