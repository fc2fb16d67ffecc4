//! The glibc versions an ELF binary needs: the `GLIBC_x.y` names in its
//! version-needs section (`.gnu.version_r`, `SHT_GNU_verneed`), which the
//! dynamic loader checks at start-up ("version `GLIBC_2.34' not found").

use anyhow::{Context, Result, bail};

const SHT_GNU_VERNEED: u32 = 0x6fff_fffe;

fn slice(bytes: &[u8], at: usize, len: usize) -> Result<&[u8]> {
    at.checked_add(len)
        .and_then(|end| bytes.get(at..end))
        .context("the ELF file is truncated")
}

fn u16_at(bytes: &[u8], at: usize) -> Result<u16> {
    let b = slice(bytes, at, 2)?;
    Ok(u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(bytes: &[u8], at: usize) -> Result<u32> {
    let b = slice(bytes, at, 4)?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn u64_at(bytes: &[u8], at: usize) -> Result<usize> {
    let b = slice(bytes, at, 8)?;
    usize::try_from(u64::from_le_bytes(b.try_into().expect("8 bytes")))
        .context("an ELF offset does not fit in memory")
}

fn c_string(bytes: &[u8], at: usize) -> Result<&str> {
    let rest = bytes.get(at..).context("an ELF string is out of range")?;
    let end = rest
        .iter()
        .position(|&b| b == 0)
        .context("an ELF string is not terminated")?;
    std::str::from_utf8(&rest[..end]).context("an ELF string is not UTF-8")
}

/// Every version name a 64-bit little-endian ELF file needs from its shared
/// libraries, with the library's name: `[("libc.so.6", "GLIBC_2.17"), …]`.
/// A static binary needs none.
pub fn needed_versions(bytes: &[u8]) -> Result<Vec<(String, String)>> {
    if !bytes.starts_with(b"\x7fELF") {
        bail!("not an ELF file");
    }
    if bytes.get(4) != Some(&2) || bytes.get(5) != Some(&1) {
        bail!("not a 64-bit little-endian ELF file");
    }
    let shoff = u64_at(bytes, 0x28)?;
    let shentsize = u16_at(bytes, 0x3a)? as usize;
    let shnum = u16_at(bytes, 0x3c)? as usize;
    if shoff == 0 || shnum == 0 {
        bail!("the ELF file has no section headers");
    }
    let section = |i: usize| -> Result<(u32, usize, usize, usize, usize)> {
        let at = shoff + i * shentsize;
        Ok((
            u32_at(bytes, at + 4)?,           // sh_type
            u64_at(bytes, at + 24)?,          // sh_offset
            u64_at(bytes, at + 32)?,          // sh_size
            u32_at(bytes, at + 40)? as usize, // sh_link
            u32_at(bytes, at + 44)? as usize, // sh_info
        ))
    };
    let mut out = Vec::new();
    for i in 0..shnum {
        let (kind, offset, size, link, count) = section(i)?;
        if kind != SHT_GNU_VERNEED {
            continue;
        }
        let (_, strings, strings_size, _, _) = section(link)?;
        let strtab = slice(bytes, strings, strings_size)?;
        let data = slice(bytes, offset, size)?;
        let mut need = 0usize;
        for _ in 0..count {
            let aux_count = u16_at(data, need + 2)? as usize;
            let file = c_string(strtab, u32_at(data, need + 4)? as usize)?.to_string();
            let mut aux = need + u32_at(data, need + 8)? as usize;
            for _ in 0..aux_count {
                let name = c_string(strtab, u32_at(data, aux + 8)? as usize)?;
                out.push((file.clone(), name.to_string()));
                let next = u32_at(data, aux + 12)? as usize;
                if next == 0 {
                    break;
                }
                aux += next;
            }
            let next = u32_at(data, need + 12)? as usize;
            if next == 0 {
                break;
            }
            need += next;
        }
    }
    Ok(out)
}

/// `GLIBC_2.17` → `(2, 17)`; other names (`GLIBC_PRIVATE`, `GCC_3.0`) → `None`.
pub fn glibc_version(name: &str) -> Option<(u32, u32)> {
    let rest = name.strip_prefix("GLIBC_")?;
    let mut parts = rest.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map_or(Some(0), |m| m.parse().ok())?;
    Some((major, minor))
}

/// The highest `GLIBC_x.y` an ELF file needs, `None` when it needs none.
pub fn max_glibc(bytes: &[u8]) -> Result<Option<(u32, u32)>> {
    Ok(needed_versions(bytes)?
        .iter()
        .filter_map(|(_, name)| glibc_version(name))
        .max())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glibc_names_parse() {
        assert_eq!(glibc_version("GLIBC_2.17"), Some((2, 17)));
        assert_eq!(glibc_version("GLIBC_2.2.5"), Some((2, 2)));
        assert_eq!(glibc_version("GLIBC_2.3"), Some((2, 3)));
        assert_eq!(glibc_version("GLIBC_PRIVATE"), None);
        assert_eq!(glibc_version("GCC_3.0"), None);
        assert!((2, 3) < (2, 17) && (2, 17) < (2, 34));
    }

    #[test]
    fn non_elf_input_is_an_error() {
        assert!(needed_versions(b"MZ\x90\x00").is_err());
        assert!(needed_versions(b"\x7fELF\x02\x01").is_err());
    }
}
