//! The trainer's integration tests, one module per subject, in one binary: each test binary
//! links burn and the whole trainer, so one link instead of fifteen.

mod support;

mod arrange;
mod bad_input;
mod cli;
mod envelope;
mod envelope_stage;
mod loaders;
mod nmf;
mod output;
mod params;
mod quantize;
mod speech_enhancers;
mod speech_frontend;
mod speech_input;
mod speech_methods;
mod speech_separation;
mod vae;
