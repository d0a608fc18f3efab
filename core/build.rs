//! Embeds the WHO growth table deflated: its 0.72 MB of CSV text is 0.13 MB so, and the
//! apps carry the library once per ABI. `growth::tables` inflates it once, at first use.

use std::io::Write;
use std::path::PathBuf;

fn main() {
    let source = "data/who_2006_lms.csv";
    println!("cargo:rerun-if-changed={source}");
    let csv = std::fs::read(source).expect("core/data/who_2006_lms.csv is in the repository");
    let mut deflater = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    deflater.write_all(&csv).expect("deflating into memory");
    let deflated = deflater.finish().expect("deflating into memory");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("who_2006_lms.csv.deflate"), deflated).expect("OUT_DIR is writable");
}
