//! How [`crate::Table`]s render: plain aligned text (the default), GitHub-flavoured
//! markdown, or plain text fitted to a terminal's width.
//!
//! The style is set for the span of one closure ([`render_with`]) rather than passed to
//! every `to_table` function: the reports build their text from many tables, and the
//! choice is the command line's, made once per output.

use std::cell::Cell;

use crate::text::Table;

/// How tables render.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    /// Aligned text at full width (files, pipes, goldens).
    #[default]
    Plain,
    /// GitHub-flavoured markdown tables, each titled table under a `###` heading.
    Markdown,
    /// Aligned text within `width` columns: headers wrap onto more lines, then columns
    /// are dropped from the right, with a note naming them.
    Fit {
        /// The terminal's width, in columns.
        width: usize,
    },
}

thread_local! {
    static STYLE: Cell<Style> = const { Cell::new(Style::Plain) };
}

/// Puts the previous style back when dropped (also if `f` panics).
struct Restore(Style);

impl Drop for Restore {
    fn drop(&mut self) {
        STYLE.with(|s| s.set(self.0));
    }
}

/// Run `f` with tables rendering in `style`, then restore the previous style.
pub fn render_with<T>(style: Style, f: impl FnOnce() -> T) -> T {
    let _restore = Restore(STYLE.with(|s| s.replace(style)));
    f()
}

/// The style in force on this thread.
pub(crate) fn current() -> Style {
    STYLE.with(Cell::get)
}

/// `t` rendered in the current style, or `None` for plain text.
pub(crate) fn styled(t: &Table) -> Option<String> {
    match current() {
        Style::Plain => None,
        Style::Markdown => Some(crate::markdown::table(t)),
        Style::Fit { width } => Some(crate::width::fit(t, width)),
    }
}
