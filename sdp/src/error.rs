//! Parse errors: where (line and column, both from 1) and what was expected.

use std::fmt;

/// Why a description was rejected, with the position of the first offending character.
///
/// `Display` gives `line L, column C: <what was expected>`, the form the `weft sdp check`
/// command prints. Columns count characters, not bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    pub kind: ErrorKind,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A value did not match the grammar; the text says what the grammar wanted there.
    Expected(&'static str),
    /// A known line type in a place RFC 8866 §5 does not allow, e.g. `s=` before `o=`.
    OutOfOrder { found: char, expected: &'static str },
    /// A line type that may appear only once in its section appeared again.
    Duplicate(char),
    /// A type letter RFC 8866 does not define; RFC 8866 §5 says to reject the whole
    /// description.
    UnknownLineType(char),
    /// The input ended before a required line (`v=`, `o=`, `s=`, `t=`).
    MissingLine(&'static str),
    /// The bytes are not UTF-8 (RFC 8866 §5: the default character set is UTF-8).
    InvalidUtf8,
    /// The input is larger than [`Limits::max_bytes`](crate::Limits::max_bytes).
    TooLarge { limit: usize },
    /// More lines than [`Limits::max_lines`](crate::Limits::max_lines).
    TooManyLines { limit: usize },
    /// A line longer than [`Limits::max_line_length`](crate::Limits::max_line_length).
    LineTooLong { limit: usize },
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Expected(what) => write!(f, "expected {what}"),
            ErrorKind::OutOfOrder { found, expected } => {
                write!(f, "expected {expected}, found `{found}=` out of order")
            }
            ErrorKind::Duplicate(c) => write!(f, "expected at most one `{c}=` line here"),
            ErrorKind::UnknownLineType(c) => {
                write!(
                    f,
                    "expected a known line type, found `{}=`",
                    c.escape_debug()
                )
            }
            ErrorKind::MissingLine(what) => write!(f, "expected {what} before the end"),
            ErrorKind::InvalidUtf8 => f.write_str("expected UTF-8 text"),
            ErrorKind::TooLarge { limit } => {
                write!(f, "expected a description of at most {limit} bytes")
            }
            ErrorKind::TooManyLines { limit } => {
                write!(f, "expected at most {limit} lines")
            }
            ErrorKind::LineTooLong { limit } => {
                write!(f, "expected a line of at most {limit} bytes")
            }
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.kind
        )
    }
}

impl std::error::Error for ParseError {}
