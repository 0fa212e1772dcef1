//! Choosing a Burn device by name, for the examples' `--device` flag.
//!
//! | name | device | needs |
//! |---|---|---|
//! | `flex` | `Device::flex()` — Burn's pure-Rust CPU backend | feature `flex` |
//! | `ndarray` | `Device::ndarray()` — the deprecated ndarray CPU backend | feature `ndarray` |
//! | `wgpu` | `Device::wgpu(DeviceKind::DefaultDevice)` — the first GPU wgpu finds | feature `wgpu` |
//! | `wgpu-cpu` | `Device::wgpu(DeviceKind::Cpu)` — a CPU adapter (Mesa's llvmpipe) | feature `wgpu` |

use burn::tensor::Device;

use crate::error::{LabError, Result};

/// The names [`by_name`] accepts in this build (features decide).
pub fn available() -> Vec<&'static str> {
    let mut names = Vec::new();
    if cfg!(feature = "flex") {
        names.push("flex");
    }
    if cfg!(feature = "ndarray") {
        names.push("ndarray");
    }
    if cfg!(feature = "wgpu") {
        names.extend(["wgpu", "wgpu-cpu"]);
    }
    names
}

/// The plain (non-autodiff) device called `name`; see the [module table](self).
///
/// # Errors
/// [`LabError::InvalidConfig`] for an unknown name or a backend whose feature is not compiled
/// in, listing the [`available`] names.
pub fn by_name(name: &str) -> Result<Device> {
    match name {
        #[cfg(feature = "flex")]
        "flex" => Ok(Device::flex()),
        #[cfg(feature = "ndarray")]
        #[allow(deprecated)]
        "ndarray" => Ok(Device::ndarray()),
        #[cfg(feature = "wgpu")]
        "wgpu" => Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice)),
        #[cfg(feature = "wgpu")]
        "wgpu-cpu" => Ok(Device::wgpu(burn::tensor::DeviceKind::Cpu)),
        other => Err(LabError::InvalidConfig {
            what: "device",
            value: other.to_string(),
            why: device_help(),
        }),
    }
}

fn device_help() -> &'static str {
    match (
        cfg!(feature = "flex"),
        cfg!(feature = "ndarray"),
        cfg!(feature = "wgpu"),
    ) {
        (true, true, true) => "one of flex, ndarray, wgpu, wgpu-cpu",
        (true, false, true) => "one of flex, wgpu, wgpu-cpu (ndarray needs the `ndarray` feature)",
        (true, true, false) => "one of flex, ndarray (wgpu needs the `wgpu` feature)",
        (true, false, false) => "flex (ndarray and wgpu need their features)",
        _ => "a backend enabled by a feature (flex, ndarray, wgpu)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_are_errors_that_list_the_choices() {
        let err = by_name("tpu").unwrap_err().to_string();
        assert!(err.contains("tpu") && err.contains("flex"), "{err}");
        for name in available() {
            if name.starts_with("wgpu") {
                continue; // constructing is lazy, but keep tests off the GPU here
            }
            assert!(by_name(name).is_ok(), "{name}");
        }
    }
}
