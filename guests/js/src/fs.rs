//! `fs` for agent code, over the sandbox's tree rooted at `/`:
//!
//! - `./workspace/...`: the session's workspace, read-write, through WASI;
//! - `./servers/...` (generated declarations) and `./skills/...`: read-only
//!   files the host serves through `airlock:runtime/tree`;
//! - `/` itself lists those three folders.
//!
//! Paths are normalised here and anything else is refused by name; WASI
//! (cap-std on the host) independently refuses whatever would leave the
//! preopened workspace, symlinks included.

use std::io::Write;

use rquickjs::{Ctx, Exception, Function, Object, Value};

use crate::airlock::runtime::tree::{self, Node, TreeError};

const WORKSPACE: &str = "/workspace";
/// What `/` holds.
const ROOT_ENTRIES: [&str; 3] = ["servers", "skills", "workspace"];

/// Where a guest path leads.
enum Place {
    /// `/`.
    Root,
    /// Under `/workspace`: a WASI path.
    Workspace(String),
    /// Under `/servers` or `/skills`: served by the host, read-only.
    Tree(String),
}

type Refusal = (&'static str, String);

/// Normalises a guest path and says where it leads, or why nowhere.
fn place(path: &str) -> Result<Place, Refusal> {
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
    match parts.first() {
        None => Ok(Place::Root),
        Some(&"workspace") => Ok(Place::Workspace(absolute)),
        Some(&("servers" | "skills")) => Ok(Place::Tree(absolute)),
        Some(_) => Err((
            "EACCES",
            format!(
                "'{path}' is outside the sandbox's tree: ./workspace/ (read-write), ./servers/ and ./skills/ (read-only)"
            ),
        )),
    }
}

/// The workspace path of `path`, or why it cannot be written.
fn writable(path: &str) -> Result<String, Refusal> {
    match place(path)? {
        Place::Workspace(p) => Ok(p),
        Place::Root | Place::Tree(_) => {
            Err(("EROFS", format!("'{path}' is read-only: code can write only under ./workspace/")))
        }
    }
}

/// Looks `path` up in the host's read-only tree.
fn lookup(path: &str, shown: &str) -> Result<Node, Refusal> {
    tree::lookup(path).map_err(|error| match error {
        TreeError::NotFound(_) => ("ENOENT", format!("no such file or folder, '{shown}'")),
        TreeError::Unavailable(message) => ("EIO", message),
    })
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

fn refuse(ctx: &Ctx<'_>, path: &str) -> impl FnOnce(Refusal) -> rquickjs::Error {
    move |(code, message)| throw(ctx, code, message, path)
}

/// Runs `op` on a workspace path, turning failures into JS errors.
fn in_workspace<T>(ctx: &Ctx<'_>, path: &str, op: impl FnOnce(&str) -> std::io::Result<T>) -> rquickjs::Result<T> {
    let resolved = writable(path).map_err(refuse(ctx, path))?;
    io(ctx, path, op(&resolved))
}

fn io<T>(ctx: &Ctx<'_>, path: &str, result: std::io::Result<T>) -> rquickjs::Result<T> {
    result.map_err(|e| throw(ctx, io_code(&e), format!("{e}, '{path}'"), path))
}

fn read_file<'js>(ctx: Ctx<'js>, path: String) -> rquickjs::Result<String> {
    match place(&path).map_err(refuse(&ctx, &path))? {
        Place::Workspace(p) => Ok(String::from_utf8_lossy(&io(&ctx, &path, std::fs::read(p))?).into_owned()),
        Place::Tree(p) => match lookup(&p, &path).map_err(refuse(&ctx, &path))? {
            Node::File(text) => Ok(text),
            Node::Folder(_) => {
                Err(throw(&ctx, "EISDIR", format!("illegal operation on a directory, read '{path}'"), &path))
            }
        },
        Place::Root => Err(throw(&ctx, "EISDIR", format!("illegal operation on a directory, read '{path}'"), &path)),
    }
}

fn write_file<'js>(ctx: Ctx<'js>, path: String, data: String, append: bool) -> rquickjs::Result<()> {
    in_workspace(&ctx, &path, |p| {
        let mut file = std::fs::OpenOptions::new().create(true).write(true).append(append).truncate(!append).open(p)?;
        file.write_all(data.as_bytes())
    })
}

fn read_dir<'js>(ctx: Ctx<'js>, path: String) -> rquickjs::Result<Vec<String>> {
    match place(&path).map_err(refuse(&ctx, &path))? {
        Place::Root => Ok(ROOT_ENTRIES.map(String::from).to_vec()),
        Place::Workspace(p) => {
            let listed = std::fs::read_dir(p).and_then(|entries| {
                entries.map(|entry| entry.map(|e| e.file_name().to_string_lossy().into_owned())).collect()
            });
            let mut names: Vec<String> = io(&ctx, &path, listed)?;
            names.sort();
            Ok(names)
        }
        Place::Tree(p) => match lookup(&p, &path).map_err(refuse(&ctx, &path))? {
            Node::Folder(names) => Ok(names),
            Node::File(_) => Err(throw(&ctx, "ENOTDIR", format!("not a directory, scandir '{path}'"), &path)),
        },
    }
}

fn stat<'js>(ctx: Ctx<'js>, path: String) -> rquickjs::Result<Object<'js>> {
    let stat = Object::new(ctx.clone())?;
    let (size, is_dir, modified) = match place(&path).map_err(refuse(&ctx, &path))? {
        Place::Root => (0, true, None),
        Place::Tree(p) => match lookup(&p, &path).map_err(refuse(&ctx, &path))? {
            Node::Folder(_) => (0, true, None),
            Node::File(text) => (text.len() as u64, false, None),
        },
        Place::Workspace(p) => {
            let meta = io(&ctx, &path, std::fs::metadata(p))?;
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_secs_f64() * 1000.0);
            (meta.len(), meta.is_dir(), modified)
        }
    };
    stat.set("size", size as f64)?;
    stat.set("isFile", !is_dir)?;
    stat.set("isDirectory", is_dir)?;
    stat.set("mtimeMs", modified)?;
    Ok(stat)
}

fn exists<'js>(_ctx: Ctx<'js>, path: String) -> bool {
    match place(&path) {
        Ok(Place::Root) => true,
        Ok(Place::Workspace(p)) => std::fs::metadata(p).is_ok(),
        Ok(Place::Tree(p)) => lookup(&p, &path).is_ok(),
        Err(_) => false,
    }
}

fn mkdir<'js>(ctx: Ctx<'js>, path: String, recursive: bool) -> rquickjs::Result<()> {
    in_workspace(&ctx, &path, |p| if recursive { std::fs::create_dir_all(p) } else { std::fs::create_dir(p) })
}

fn remove<'js>(ctx: Ctx<'js>, path: String, recursive: bool) -> rquickjs::Result<()> {
    in_workspace(&ctx, &path, |p| {
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
