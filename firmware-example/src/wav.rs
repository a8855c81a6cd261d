//! The header of a mono 32-bit float WAV file, byte for byte as the trainer writes one
//! (`hound`: `WAVE_FORMAT_EXTENSIBLE` for more than 16 bits, 68 bytes), so the device's output
//! file and `vaenmf speech enhance -o OUT.wav` can be compared with `cmp`.

/// Bytes before the samples.
pub const HEADER_LEN: usize = 68;

/// `KSDATAFORMAT_SUBTYPE_IEEE_FLOAT`.
const IEEE_FLOAT: [u8; 16] = [
    0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71,
];

/// The header of `samples` mono f32 samples at `rate` Hz.
pub fn float_header(rate: u32, samples: u32) -> [u8; HEADER_LEN] {
    let data = samples.saturating_mul(4);
    let mut h = [0u8; HEADER_LEN];
    let mut at = 0;
    let mut put = |bytes: &[u8]| {
        h[at..at + bytes.len()].copy_from_slice(bytes);
        at += bytes.len();
    };
    put(b"RIFF");
    put(&(data.saturating_add(HEADER_LEN as u32 - 8)).to_le_bytes());
    put(b"WAVE");
    put(b"fmt ");
    put(&40u32.to_le_bytes());
    put(&0xfffeu16.to_le_bytes()); // WAVE_FORMAT_EXTENSIBLE
    put(&1u16.to_le_bytes()); // channels
    put(&rate.to_le_bytes());
    put(&rate.saturating_mul(4).to_le_bytes()); // bytes per second
    put(&4u16.to_le_bytes()); // block align
    put(&32u16.to_le_bytes()); // container bits
    put(&22u16.to_le_bytes()); // extension size
    put(&32u16.to_le_bytes()); // valid bits
    put(&1u32.to_le_bytes()); // channel mask: front left
    put(&IEEE_FLOAT);
    put(b"data");
    put(&data.to_le_bytes());
    h
}
