//! The experiments: the paper's Tables 1 and 2 ([`table`] runs them: [`config`] in, `train`
//! per condition, [`results`] out, [`report`] as JSON and Markdown) and the scoring of
//! `speech eval` over a manifest ([`eval`]); `speech train`'s enhancers, trained by the same
//! functions ([`enhancer_training`]).

pub mod config;
pub mod enhancer_training;
pub mod eval;
pub mod report;
pub mod results;
pub mod table;
mod train;
