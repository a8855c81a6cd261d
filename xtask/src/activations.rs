//! Device activations (the firmware's `z,` lines) against the host's (`vaenmf eval
//! --activations`): parsed strictly, compared bit for bit. A cell that is not a number, rows
//! of different counts or lengths, and any value that differs are errors, so the demo fails
//! when the device and the host disagree.

/// The host's activations CSV: a header row, then one row of numbers per frame.
pub fn parse_host_csv(path: &str, text: &str) -> Result<Vec<Vec<f32>>, String> {
    text.lines()
        .enumerate()
        .skip(1)
        .map(|(row, line)| {
            line.split(',')
                .enumerate()
                .map(|(col, cell)| {
                    cell.trim().parse().map_err(|_| {
                        format!(
                            "{path}: row {}, column {}: {cell:?} is not a number",
                            row + 1,
                            col + 1
                        )
                    })
                })
                .collect()
        })
        .collect()
}

/// The firmware's `z,FRAME,v1,…,vr` lines.
pub fn parse_device(output: &str) -> Result<Vec<Vec<f32>>, String> {
    output
        .lines()
        .enumerate()
        .filter_map(|(n, l)| l.strip_prefix("z,").map(|rest| (n, rest)))
        .map(|(n, rest)| {
            rest.split(',')
                .skip(1)
                .map(|cell| {
                    cell.parse()
                        .map_err(|_| format!("device output line {}: {cell:?} is not a number", n + 1))
                })
                .collect()
        })
        .collect()
}

/// The number of activations when every device value equals the host's bit for bit;
/// otherwise an error that says how many match and where the first difference is.
pub fn compare(device: &[Vec<f32>], host: &[Vec<f32>]) -> Result<usize, String> {
    if device.len() != host.len() {
        return Err(format!(
            "the device printed {} frames and the host wrote {}",
            device.len(),
            host.len()
        ));
    }
    let mut total = 0;
    let mut identical = 0;
    let mut first = None;
    for (f, (d, h)) in device.iter().zip(host).enumerate() {
        if d.len() != h.len() {
            return Err(format!(
                "frame {f}: the device printed {} activations and the host {}",
                d.len(),
                h.len()
            ));
        }
        for (k, (a, b)) in d.iter().zip(h).enumerate() {
            total += 1;
            if a.to_bits() == b.to_bits() {
                identical += 1;
            } else if first.is_none() {
                first = Some(format!("frame {f}, latent {k}: device {a:e}, host {b:e}"));
            }
        }
    }
    match first {
        None if total > 0 => Ok(total),
        None => Err("no activations to compare".into()),
        Some(at) => Err(format!(
            "{identical} of {total} activations bit-identical; first difference at {at}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_differing_bit_fails_the_comparison() {
        let host = parse_host_csv("z.csv", "z1,z2\n0.5,1.25\n2,3\n").unwrap();
        let device = parse_device("boot\nz,0,0.5,1.25\nz,1,2,3\nsummary frames=2\n").unwrap();
        assert_eq!(compare(&device, &host), Ok(4));
        let mut off = device.clone();
        off[1][1] = f32::from_bits(3f32.to_bits() + 1);
        let err = compare(&off, &host).unwrap_err();
        assert!(
            err.contains("3 of 4") && err.contains("frame 1, latent 1"),
            "{err}"
        );
        let err = compare(&device[..1], &host).unwrap_err();
        assert!(err.contains("1 frames") && err.contains("wrote 2"), "{err}");
        assert!(compare(&[], &[]).is_err());
    }

    #[test]
    fn unparsable_cells_are_errors_naming_where() {
        let err = parse_host_csv("z.csv", "z1,z2\n0.5,x\n").unwrap_err();
        assert!(err.contains("z.csv: row 2, column 2"), "{err}");
        let err = parse_device("z,0,0.5,nan?\n").unwrap_err();
        assert!(err.contains("line 1"), "{err}");
    }
}
