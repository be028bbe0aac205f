//! `fs` for agent code: the session's workspace, reached through WASI.
//!
//! Paths are resolved against the sandbox's root (`/`), so the workspace
//! is `./workspace/...` or `/workspace/...`. Anything outside it is
//! refused here by name; WASI (cap-std on the host) independently refuses
//! whatever would leave the preopened folder, symlinks included.

use std::io::Write;

use rquickjs::{Ctx, Exception, Function, Object, Value};

const WORKSPACE: &str = "/workspace";

/// Resolves a guest path into the workspace, or explains why not.
fn workspace_path(path: &str) -> Result<String, (&'static str, String)> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(("EACCES", format!("'{path}' leaves the sandbox")));
                }
            }
            other => parts.push(other),
        }
    }
    let absolute = format!("/{}", parts.join("/"));
    if absolute == WORKSPACE || absolute.starts_with("/workspace/") {
        Ok(absolute)
    } else {
        Err(("EACCES", format!("'{path}' is outside the workspace: code can read and write only under ./workspace/")))
    }
}

/// Throws a Node-style error (`err.code`, `err.path`).
fn throw(ctx: &Ctx<'_>, code: &str, message: String, path: &str) -> rquickjs::Error {
    let built = Exception::from_message(ctx.clone(), &format!("{code}: {message}")).and_then(|e| {
        e.set("code", code)?;
        e.set("path", path)?;
        Ok(e)
    });
    match built {
        Ok(exception) => ctx.throw(exception.into_value()),
        Err(error) => error,
    }
}

fn io_code(error: &std::io::Error) -> &'static str {
    use std::io::ErrorKind::*;
    match error.kind() {
        NotFound => "ENOENT",
        PermissionDenied => "EACCES",
        AlreadyExists => "EEXIST",
        NotADirectory => "ENOTDIR",
        IsADirectory => "EISDIR",
        DirectoryNotEmpty => "ENOTEMPTY",
        InvalidInput | InvalidFilename => "EINVAL",
        _ => "EIO",
    }
}

/// Runs `op` on the resolved path, turning failures into JS errors.
fn with_path<'js, T>(ctx: &Ctx<'js>, path: &str, op: impl FnOnce(&str) -> std::io::Result<T>) -> rquickjs::Result<T> {
    let resolved = workspace_path(path).map_err(|(code, message)| throw(ctx, code, message, path))?;
    op(&resolved).map_err(|e| throw(ctx, io_code(&e), format!("{e}, '{path}'"), path))
}

fn read_file<'js>(ctx: Ctx<'js>, path: String) -> rquickjs::Result<String> {
    let bytes = with_path(&ctx, &path, |p| std::fs::read(p))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn write_file<'js>(ctx: Ctx<'js>, path: String, data: String, append: bool) -> rquickjs::Result<()> {
    with_path(&ctx, &path, |p| {
        let mut file = std::fs::OpenOptions::new().create(true).write(true).append(append).truncate(!append).open(p)?;
        file.write_all(data.as_bytes())
    })
}

fn read_dir<'js>(ctx: Ctx<'js>, path: String) -> rquickjs::Result<Vec<String>> {
    with_path(&ctx, &path, |p| {
        let mut names = std::fs::read_dir(p)?
            .map(|entry| entry.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<std::io::Result<Vec<_>>>()?;
        names.sort();
        Ok(names)
    })
}

fn stat<'js>(ctx: Ctx<'js>, path: String) -> rquickjs::Result<Object<'js>> {
    let meta = with_path(&ctx, &path, |p| std::fs::metadata(p))?;
    let stat = Object::new(ctx.clone())?;
    stat.set("size", meta.len() as f64)?;
    stat.set("isFile", meta.is_file())?;
    stat.set("isDirectory", meta.is_dir())?;
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs_f64() * 1000.0);
    stat.set("mtimeMs", modified)?;
    Ok(stat)
}

fn exists<'js>(_ctx: Ctx<'js>, path: String) -> bool {
    workspace_path(&path).is_ok_and(|p| std::fs::metadata(p).is_ok())
}

fn mkdir<'js>(ctx: Ctx<'js>, path: String, recursive: bool) -> rquickjs::Result<()> {
    with_path(&ctx, &path, |p| if recursive { std::fs::create_dir_all(p) } else { std::fs::create_dir(p) })
}

fn remove<'js>(ctx: Ctx<'js>, path: String, recursive: bool) -> rquickjs::Result<()> {
    with_path(&ctx, &path, |p| {
        if p == WORKSPACE {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                "the workspace itself cannot be removed",
            ));
        }
        match std::fs::metadata(p)?.is_dir() {
            true if recursive => std::fs::remove_dir_all(p),
            true => std::fs::remove_dir(p),
            false => std::fs::remove_file(p),
        }
    })
}

/// The native half of the `fs` module.
pub fn install<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Value<'js>> {
    let fs = Object::new(ctx.clone())?;
    fs.set("readFile", Function::new(ctx.clone(), read_file)?)?;
    fs.set("writeFile", Function::new(ctx.clone(), write_file)?)?;
    fs.set("readdir", Function::new(ctx.clone(), read_dir)?)?;
    fs.set("stat", Function::new(ctx.clone(), stat)?)?;
    fs.set("exists", Function::new(ctx.clone(), exists)?)?;
    fs.set("mkdir", Function::new(ctx.clone(), mkdir)?)?;
    fs.set("rm", Function::new(ctx.clone(), remove)?)?;
    Ok(fs.into_value())
}
