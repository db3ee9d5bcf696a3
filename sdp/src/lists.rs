//! The lists the model keeps as canonical text: fmtp parameters (and rid restrictions) and
//! candidate extensions.
//!
//! A parsed list borrows the slice of the line it was read from when that slice is already
//! canonical (always so for what browsers write); otherwise the parser writes the canonical
//! text once. Either way the text holds exactly the items, so comparing texts compares
//! lists, the writer copies the text in one piece, and parsing allocates nothing.

use std::borrow::Cow;
use std::fmt;

use crate::model::{CandidateExtensions, FmtpParameter, FmtpParameters, Str};

impl<'a> FmtpParameters<'a> {
    /// An empty list.
    pub const fn new() -> Self {
        FmtpParameters(Cow::Borrowed(""))
    }

    /// Wraps text that is already canonical (`key[=value]` items joined by `;`).
    pub(crate) fn from_canonical(text: Str<'a>) -> Self {
        FmtpParameters(text)
    }

    /// The canonical text: items joined by `;`, as the writer puts it on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of parameters.
    pub fn len(&self) -> usize {
        if self.0.is_empty() {
            0
        } else {
            memchr::memchr_iter(b';', self.0.as_bytes()).count() + 1
        }
    }

    /// The parameters in order: `(key, Some(value))` for `key=value`, `(value, None)` for a
    /// bare value.
    pub fn iter(&self) -> FmtpParameterIter<'_> {
        let mut split = self.0.split(';');
        if self.0.is_empty() {
            // "".split(';') yields one empty item; an empty list has none.
            split.next();
        }
        FmtpParameterIter(split)
    }

    /// Appends `key=value`, or the bare `key` when `value` is `None`. The key must not be
    /// empty or hold `=`, `;`, spaces or line breaks, and the value no `;` or line breaks
    /// (the model's invariants).
    pub fn push(&mut self, key: &str, value: Option<&str>) {
        let text = self.0.to_mut();
        if !text.is_empty() {
            text.push(';');
        }
        text.push_str(key);
        if let Some(v) = value {
            text.push('=');
            text.push_str(v);
        }
    }

    /// Detaches the list from the text it was parsed from.
    pub fn into_owned(self) -> FmtpParameters<'static> {
        FmtpParameters(Cow::Owned(self.0.into_owned()))
    }
}

/// The parameters of an [`FmtpParameters`] list, in order.
#[derive(Debug, Clone)]
pub struct FmtpParameterIter<'s>(std::str::Split<'s, char>);

impl<'s> Iterator for FmtpParameterIter<'s> {
    /// `(key, Some(value))` for `key=value`, `(value, None)` for a bare value.
    type Item = (&'s str, Option<&'s str>);

    fn next(&mut self) -> Option<(&'s str, Option<&'s str>)> {
        let item = self.0.next()?;
        Some(match item.split_once('=') {
            Some((key, value)) => (key, Some(value)),
            None => (item, None),
        })
    }
}

impl<'s> IntoIterator for &'s FmtpParameters<'_> {
    type Item = (&'s str, Option<&'s str>);
    type IntoIter = FmtpParameterIter<'s>;

    fn into_iter(self) -> FmtpParameterIter<'s> {
        self.iter()
    }
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, Option<V>)> for FmtpParameters<'_> {
    fn from_iter<I: IntoIterator<Item = (K, Option<V>)>>(items: I) -> Self {
        let mut list = FmtpParameters::new();
        for (key, value) in items {
            list.push(key.as_ref(), value.as_ref().map(AsRef::as_ref));
        }
        list
    }
}

impl<'b> FromIterator<FmtpParameter<'b>> for FmtpParameters<'_> {
    fn from_iter<I: IntoIterator<Item = FmtpParameter<'b>>>(items: I) -> Self {
        let mut list = FmtpParameters::new();
        for p in items {
            list.push(&p.key, p.value.as_deref());
        }
        list
    }
}

impl<'b> From<Vec<FmtpParameter<'b>>> for FmtpParameters<'_> {
    fn from(items: Vec<FmtpParameter<'b>>) -> Self {
        items.into_iter().collect()
    }
}

impl fmt::Display for FmtpParameters<'_> {
    /// The canonical text, as in the `a=fmtp` line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for FmtpParameters<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(|(key, value)| FmtpParameter {
            key: Cow::Borrowed(key),
            value: value.map(Cow::Borrowed),
        }))
    }
}

impl<'a> CandidateExtensions<'a> {
    /// An empty list.
    pub const fn new() -> Self {
        CandidateExtensions(Cow::Borrowed(""))
    }

    /// Wraps text that is already canonical (names and values joined by single spaces).
    pub(crate) fn from_canonical(text: Str<'a>) -> Self {
        CandidateExtensions(text)
    }

    /// The canonical text: names and values joined by single spaces, as written after the
    /// typed fields of the candidate.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of `(name, value)` pairs.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// The `(name, value)` pairs in order.
    pub fn iter(&self) -> CandidateExtensionIter<'_> {
        CandidateExtensionIter(self.0.split(' '))
    }

    /// The value of the first extension called `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Appends a pair. The name must be a token and the value non-empty without spaces or
    /// line breaks (the model's invariants).
    pub fn push(&mut self, name: &str, value: &str) {
        let text = self.0.to_mut();
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(name);
        text.push(' ');
        text.push_str(value);
    }

    /// Detaches the list from the text it was parsed from.
    pub fn into_owned(self) -> CandidateExtensions<'static> {
        CandidateExtensions(Cow::Owned(self.0.into_owned()))
    }
}

/// The `(name, value)` pairs of a [`CandidateExtensions`] list, in order.
#[derive(Debug, Clone)]
pub struct CandidateExtensionIter<'s>(std::str::Split<'s, char>);

impl<'s> Iterator for CandidateExtensionIter<'s> {
    type Item = (&'s str, &'s str);

    fn next(&mut self) -> Option<(&'s str, &'s str)> {
        let name = self.0.next().filter(|n| !n.is_empty())?;
        Some((name, self.0.next().unwrap_or_default()))
    }
}

impl<'s> IntoIterator for &'s CandidateExtensions<'_> {
    type Item = (&'s str, &'s str);
    type IntoIter = CandidateExtensionIter<'s>;

    fn into_iter(self) -> CandidateExtensionIter<'s> {
        self.iter()
    }
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for CandidateExtensions<'_> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Self {
        let mut list = CandidateExtensions::new();
        for (name, value) in pairs {
            list.push(name.as_ref(), value.as_ref());
        }
        list
    }
}

impl<K: AsRef<str>, V: AsRef<str>> From<Vec<(K, V)>> for CandidateExtensions<'_> {
    fn from(pairs: Vec<(K, V)>) -> Self {
        pairs.into_iter().collect()
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for CandidateExtensions<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn parameters_read_back_what_was_pushed() {
        let mut p = FmtpParameters::new();
        assert!(p.is_empty());
        assert_eq!((p.len(), p.iter().count()), (0, 0));
        p.push("minptime", Some("10"));
        p.push("111/111", None);
        p.push("empty", Some(""));
        assert_eq!(p.as_str(), "minptime=10;111/111;empty=");
        assert_eq!(p.len(), 3);
        assert_eq!(
            p.iter().collect::<Vec<_>>(),
            [
                ("minptime", Some("10")),
                ("111/111", None),
                ("empty", Some("")),
            ]
        );
        let again: FmtpParameters<'_> = p.iter().collect();
        assert_eq!(again, p);
    }

    #[test]
    fn extensions_read_back_what_was_pushed() {
        let mut e = CandidateExtensions::new();
        assert_eq!((e.len(), e.iter().count()), (0, 0));
        e.push("generation", "0");
        e.push("network-id", "1");
        assert_eq!(e.as_str(), "generation 0 network-id 1");
        assert_eq!(e.len(), 2);
        assert_eq!(
            e.iter().collect::<Vec<_>>(),
            [("generation", "0"), ("network-id", "1")]
        );
        assert_eq!(e.get("network-id"), Some("1"));
        assert_eq!(e.get("ufrag"), None);
        let again: CandidateExtensions<'_> = e.iter().collect();
        assert_eq!(again, e);
    }
}
