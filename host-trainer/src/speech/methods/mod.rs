//! The enhancement methods: [`dictionary`] (NMF dictionaries of magnitude frames that record
//! their front end), [`separate`] (supervised separation and the oracle mask) and
//! [`streaming`] (the core's hop-by-hop enhancer over a recording); the learned methods of the
//! paper's comparison — [`dnmf`], the mask network [`dnn`], VAE-NMF dictionaries
//! ([`vae_dictionary`]) with the [`activation_net`], all on [`network`] — and the
//! [`training_set`] they learn from; [`enhancer`], any method as its saved file, and
//! [`quantize`], a network enhancer's int8 version.

pub mod activation_net;
pub mod dictionary;
pub mod dnmf;
pub mod dnn;
pub mod enhancer;
pub mod network;
pub mod quantize;
pub mod separate;
pub mod streaming;
pub mod training_set;
pub mod vae_dictionary;
