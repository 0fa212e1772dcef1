//! The design of the paradigm (paper S5): questions, the factorial conditions, the prompts
//! an agent sees at each stage, and the records of trials.

pub mod builtin;
pub mod condition;
pub mod prompt;
pub mod question;
pub mod trial;
