//! Safetensors checkpoints: one `model.safetensors`, or shards listed by
//! `model.safetensors.index.json` (`{"weight_map": {tensor: file}}`). Files are memory-mapped
//! and read through the `safetensors` crate's header parser; F32, F16, BF16 and F64 tensors
//! are converted to `f32` on load.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use rigor_nn::{NnError, WeightSource};
use safetensors::tensor::{Dtype, Metadata, SafeTensors};

use crate::error::{HfError, Result};

/// The single-file name transformers writes.
pub const SINGLE_FILE: &str = "model.safetensors";
/// The shard index transformers writes.
pub const INDEX_FILE: &str = "model.safetensors.index.json";

struct Shard {
    path: PathBuf,
    map: Mmap,
    header_len: usize,
    metadata: Metadata,
}

/// A [`WeightSource`] over a checkpoint's safetensors files; remembers which tensors were
/// read so that [`unused`](Self::unused) can list the rest.
pub struct SafetensorsSource {
    shards: Vec<Shard>,
    /// tensor name → shard index.
    index: BTreeMap<String, usize>,
    used: BTreeSet<String>,
}

impl std::fmt::Debug for SafetensorsSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SafetensorsSource")
            .field(
                "files",
                &self.shards.iter().map(|s| &s.path).collect::<Vec<_>>(),
            )
            .field("tensors", &self.index.len())
            .finish()
    }
}

fn st_err(path: &Path, reason: impl Into<String>) -> HfError {
    HfError::Safetensors {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

fn open_shard(path: &Path) -> Result<Shard> {
    let file = File::open(path).map_err(|source| HfError::Io {
        path: path.display().to_string(),
        source,
    })?;
    // SAFETY: the mapping is read-only and lives as long as the source; a checkpoint file
    // truncated or rewritten by another process while mapped is outside what we can guard.
    let map = unsafe { Mmap::map(&file) }.map_err(|source| HfError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let (header_len, metadata) =
        SafeTensors::read_metadata(&map).map_err(|e| st_err(path, e.to_string()))?;
    Ok(Shard {
        path: path.to_path_buf(),
        map,
        header_len,
        metadata,
    })
}

impl SafetensorsSource {
    /// Opens the checkpoint in `dir`: the shard index if present, else `model.safetensors`.
    ///
    /// # Errors
    /// [`HfError::Io`] when no weights file exists or a file cannot be mapped;
    /// [`HfError::Safetensors`] for a malformed header or index, or a tensor listed in the
    /// index but absent from its shard.
    pub fn open(dir: &Path) -> Result<Self> {
        let index_path = dir.join(INDEX_FILE);
        if index_path.exists() {
            return Self::open_index(&index_path);
        }
        let single = dir.join(SINGLE_FILE);
        if !single.exists() {
            return Err(HfError::Io {
                path: single.display().to_string(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("neither {SINGLE_FILE} nor {INDEX_FILE} in the model directory"),
                ),
            });
        }
        Self::open_files(&[single])
    }

    fn open_index(index_path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(index_path).map_err(|source| HfError::Io {
            path: index_path.display().to_string(),
            source,
        })?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| st_err(index_path, e.to_string()))?;
        let map = value
            .get("weight_map")
            .and_then(|m| m.as_object())
            .ok_or_else(|| st_err(index_path, "no `weight_map` object"))?;
        let dir = index_path.parent().unwrap_or(Path::new("."));
        let mut files: Vec<String> = Vec::new();
        for (name, file) in map {
            let file = file.as_str().ok_or_else(|| {
                st_err(index_path, format!("weight_map[{name}] is not a file name"))
            })?;
            if file.contains('/') || file.contains('\\') || file == ".." {
                return Err(st_err(
                    index_path,
                    format!("weight_map[{name}] = {file:?} leaves the model directory"),
                ));
            }
            if !files.iter().any(|f| f == file) {
                files.push(file.to_string());
            }
        }
        let paths: Vec<PathBuf> = files.iter().map(|f| dir.join(f)).collect();
        let source = Self::open_files(&paths)?;
        for (name, file) in map {
            let shard = files.iter().position(|f| Some(f.as_str()) == file.as_str());
            let listed = shard.is_some_and(|s| source.index.get(name) == Some(&s));
            if !listed {
                return Err(st_err(
                    index_path,
                    format!("tensor `{name}` is listed in {file} but that file does not hold it"),
                ));
            }
        }
        Ok(source)
    }

    /// Opens the given safetensors files as one checkpoint.
    ///
    /// # Errors
    /// As [`open`](Self::open); a tensor name held by two files is an error.
    pub fn open_files(paths: &[PathBuf]) -> Result<Self> {
        let mut shards = Vec::with_capacity(paths.len());
        let mut index = BTreeMap::new();
        for (i, path) in paths.iter().enumerate() {
            let shard = open_shard(path)?;
            for name in shard.metadata.offset_keys() {
                if let Some(prev) = index.insert(name.clone(), i) {
                    return Err(st_err(
                        path,
                        format!("tensor `{name}` is also in {}", paths[prev].display()),
                    ));
                }
            }
            shards.push(shard);
        }
        Ok(Self {
            shards,
            index,
            used: BTreeSet::new(),
        })
    }

    /// Every tensor name in the checkpoint.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.index.keys().map(String::as_str)
    }

    /// Shape and dtype of a tensor, if present.
    pub fn info(&self, name: &str) -> Option<(Vec<usize>, Dtype)> {
        let shard = &self.shards[*self.index.get(name)?];
        let info = shard.metadata.info(name)?;
        Some((info.shape.clone(), info.dtype))
    }

    /// Tensors never read by the model (e.g. the rotary `inv_freq` buffers of old
    /// checkpoints, or `lm_head.weight` of a tied model).
    pub fn unused(&self) -> Vec<String> {
        self.index
            .keys()
            .filter(|k| !self.used.contains(*k))
            .cloned()
            .collect()
    }

    /// Reads `name` as `f32`, checking its shape.
    ///
    /// # Errors
    /// [`HfError::Safetensors`] naming the tensor for a wrong shape, an unsupported dtype or a
    /// byte range outside the file. `Ok(None)` if absent.
    pub fn read_f32(&mut self, name: &str, shape: &[usize]) -> Result<Option<Vec<f32>>> {
        let Some(&s) = self.index.get(name) else {
            return Ok(None);
        };
        let shard = &self.shards[s];
        let info = shard
            .metadata
            .info(name)
            .ok_or_else(|| st_err(&shard.path, format!("tensor `{name}` has no header entry")))?;
        if info.shape != shape {
            return Err(st_err(
                &shard.path,
                format!(
                    "tensor `{name}` has shape {:?}, the config implies {shape:?}",
                    info.shape
                ),
            ));
        }
        let start = 8 + shard.header_len + info.data_offsets.0;
        let end = 8 + shard.header_len + info.data_offsets.1;
        let bytes = shard.map.get(start..end).ok_or_else(|| {
            st_err(
                &shard.path,
                format!("tensor `{name}`'s bytes {start}..{end} lie outside the file"),
            )
        })?;
        let n: usize = shape.iter().product();
        let values: Vec<f32> = match info.dtype {
            Dtype::F32 => bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            Dtype::F16 => bytes
                .chunks_exact(2)
                .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            Dtype::BF16 => bytes
                .chunks_exact(2)
                .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            Dtype::F64 => bytes
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().expect("chunks of 8")) as f32)
                .collect(),
            other => {
                return Err(st_err(
                    &shard.path,
                    format!("tensor `{name}` has dtype {other:?}; supported: F32, F16, BF16, F64"),
                ));
            }
        };
        if values.len() != n {
            return Err(st_err(
                &shard.path,
                format!(
                    "tensor `{name}` holds {} values for shape {shape:?} ({n})",
                    values.len()
                ),
            ));
        }
        self.used.insert(name.to_string());
        Ok(Some(values))
    }
}

impl WeightSource for SafetensorsSource {
    fn tensor(&mut self, name: &str, shape: &[usize]) -> rigor_nn::Result<Option<Vec<f32>>> {
        self.read_f32(name, shape).map_err(|e| NnError::Weight {
            name: name.to_string(),
            reason: e.to_string(),
        })
    }
}
