//! Library enums chosen by name (command-line flags, reports) without a dependency on the
//! CLI: each lists its names, a one-line help and its value; the CLI builds its parsers from
//! that list.

/// An enum whose variants are picked by name.
pub trait Choice: Sized + Copy + PartialEq + Send + Sync + 'static {
    /// `(name, help, value)` of every variant, the default first where there is one.
    const CHOICES: &'static [(&'static str, &'static str, Self)];

    /// The variant's name.
    fn name(self) -> &'static str {
        Self::CHOICES.iter().find(|c| c.2 == self).map_or("?", |c| c.0)
    }

    /// The variant called `name`.
    fn from_name(name: &str) -> Option<Self> {
        Self::CHOICES.iter().find(|c| c.0 == name).map(|c| c.2)
    }
}
