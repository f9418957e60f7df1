//! Streaming a batch of BODs one document at a time.

use std::io::BufRead;
use std::marker::PhantomData;

use super::error::BodError;
use super::reader::{BodLimits, DocumentReader};
use super::xml::XmlElement;

/// Something that can be built from one document's root element: [`Bod<N>`](super::Bod) for
/// a known noun, or [`AnyBod`](super::AnyBod) for mixed batches.
pub trait FromBodRoot: Sized {
    /// Maps the root element.
    fn from_bod_root(root: XmlElement) -> Result<Self, BodError>;
}

/// An iterator over the BODs in a byte stream of concatenated documents (each may start with
/// its own `<?xml ...?>` declaration).
///
/// Only one document is held in memory at a time, and every document gets the full
/// [`BodLimits`] budget. A document that is well formed but does not map onto the model
/// yields an `Err` and the stream continues with the next one. After a reader-level error
/// (malformed XML, DTD, limits, encoding) the stream skips to the next `<?xml` declaration and
/// continues from there; when there is none, it ends after yielding the error.
pub struct BodStream<R: BufRead, T> {
    reader: DocumentReader<R>,
    done: bool,
    _out: PhantomData<fn() -> T>,
}

impl<R: BufRead, T: FromBodRoot> BodStream<R, T> {
    /// A stream with the default limits.
    pub fn new(input: R) -> Self {
        Self::with_limits(input, BodLimits::default())
    }

    /// A stream with custom per-document limits.
    pub fn with_limits(input: R, limits: BodLimits) -> Self {
        BodStream {
            reader: DocumentReader::new(input, limits),
            done: false,
            _out: PhantomData,
        }
    }
}

impl<R: BufRead, T: FromBodRoot> Iterator for BodStream<R, T> {
    type Item = Result<T, BodError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.reader.next_document() {
            Ok(Some(root)) => Some(T::from_bod_root(root)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                if !self.reader.resync() {
                    self.done = true;
                }
                Some(Err(e))
            }
        }
    }
}
