//! What every input reader provides, whatever its purpose and format, and
//! the one adapter that turns a reader into an iterator: the rule "a fatal
//! error ends the file, any other error skips one record" is applied here,
//! for every format alike.

/// A place in the input (1-based; 0 when unknown).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Position {
    pub line: u64,
    /// In bytes.
    pub column: u64,
}

/// A streaming reader of one input format.
pub trait RecordReader {
    /// What the format gives: a scan host, a passive observation...
    type Record;
    /// What goes wrong, with its place in the input.
    type Error;

    /// The next record; `Ok(None)` at the end of the input.
    fn next_record(&mut self) -> Result<Option<Self::Record>, Self::Error>;

    /// Whether `error` (returned by [`RecordReader::next_record`]) ends the
    /// file; otherwise only the record in error is skipped. A read error
    /// (I/O, decompression) is always fatal: the input cannot go on.
    fn is_fatal(&self, error: &Self::Error) -> bool;

    /// Where the reader is: the start of the record (or element) being read.
    fn position(&self) -> Position;

    /// The records, as an iterator applying the fatal / skip rule.
    fn records(self) -> Records<Self>
    where
        Self: Sized,
    {
        Records::new(self)
    }
}

impl<T: RecordReader + ?Sized> RecordReader for Box<T> {
    type Record = T::Record;
    type Error = T::Error;

    fn next_record(&mut self) -> Result<Option<T::Record>, T::Error> {
        (**self).next_record()
    }

    fn is_fatal(&self, error: &T::Error) -> bool {
        (**self).is_fatal(error)
    }

    fn position(&self) -> Position {
        (**self).position()
    }
}

/// The records of a reader, as an iterator: after a fatal error (and at the
/// end of the input) it yields nothing more.
pub struct Records<T> {
    reader: T,
    done: bool,
}

impl<T: RecordReader> Records<T> {
    pub fn new(reader: T) -> Self {
        Records {
            reader,
            done: false,
        }
    }

    pub fn reader(&self) -> &T {
        &self.reader
    }
}

impl<T: RecordReader> Iterator for Records<T> {
    type Item = Result<T::Record, T::Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.reader.next_record() {
            Ok(Some(record)) => Some(Ok(record)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = self.reader.is_fatal(&e);
                Some(Err(e))
            }
        }
    }
}
