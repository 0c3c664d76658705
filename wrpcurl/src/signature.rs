//! WIT types and function signatures as WIT text (`result<option<list<u8>>, error>`), and
//! functions' names on the wire: what `describe` prints and error messages quote.

use wit_parser::{Function, Handle, Resolve, Results, Type, TypeDefKind};

/// `func`'s name on the wire: its WIT name without `[method]`, `[static]` or `[constructor]`
/// (`[method]bucket.get` is `bucket.get`, `[constructor]counter` is `counter`).
pub fn wire_name(func: &Function) -> &str {
    ["[method]", "[static]", "[constructor]"]
        .iter()
        .find_map(|prefix| func.name.strip_prefix(prefix))
        .unwrap_or(&func.name)
}

/// `func` as a WIT declaration under its wire name, `self` included for methods:
/// `bucket.get: func(self: borrow<bucket>, key: string) -> result<option<list<u8>>, error>`.
pub fn signature(resolve: &Resolve, func: &Function) -> String {
    let params = func
        .params
        .iter()
        .map(|(name, ty)| format!("{name}: {}", type_text(resolve, ty)))
        .collect::<Vec<_>>()
        .join(", ");
    let results = match &func.results {
        Results::Anon(ty) => format!(" -> {}", type_text(resolve, ty)),
        Results::Named(named) if named.is_empty() => String::new(),
        Results::Named(named) => format!(
            " -> ({})",
            named
                .iter()
                .map(|(name, ty)| format!("{name}: {}", type_text(resolve, ty)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    format!("{}: func({params}){results}", wire_name(func))
}

/// `ty` as WIT writes it: a named type by its name, an anonymous one spelled out.
pub fn type_text(resolve: &Resolve, ty: &Type) -> String {
    let id = match ty {
        Type::Bool => return "bool".to_owned(),
        Type::U8 => return "u8".to_owned(),
        Type::U16 => return "u16".to_owned(),
        Type::U32 => return "u32".to_owned(),
        Type::U64 => return "u64".to_owned(),
        Type::S8 => return "s8".to_owned(),
        Type::S16 => return "s16".to_owned(),
        Type::S32 => return "s32".to_owned(),
        Type::S64 => return "s64".to_owned(),
        Type::F32 => return "f32".to_owned(),
        Type::F64 => return "f64".to_owned(),
        Type::Char => return "char".to_owned(),
        Type::String => return "string".to_owned(),
        Type::Id(id) => *id,
    };
    let def = &resolve.types[id];
    if let Some(name) = &def.name {
        return name.clone();
    }
    let text = |ty: &Type| type_text(resolve, ty);
    let optional = |ty: &Option<Type>| ty.as_ref().map_or_else(|| "_".to_owned(), text);
    match &def.kind {
        TypeDefKind::List(element) => format!("list<{}>", text(element)),
        TypeDefKind::Option(some) => format!("option<{}>", text(some)),
        TypeDefKind::Result(result) => match (&result.ok, &result.err) {
            (None, None) => "result".to_owned(),
            (Some(ok), None) => format!("result<{}>", text(ok)),
            (ok, Some(err)) => format!("result<{}, {}>", optional(ok), text(err)),
        },
        TypeDefKind::Tuple(tuple) => format!(
            "tuple<{}>",
            tuple.types.iter().map(text).collect::<Vec<_>>().join(", ")
        ),
        TypeDefKind::Handle(Handle::Own(resource)) => resource_name(resolve, *resource),
        TypeDefKind::Handle(Handle::Borrow(resource)) => {
            format!("borrow<{}>", resource_name(resolve, *resource))
        }
        TypeDefKind::Future(None) => "future".to_owned(),
        TypeDefKind::Future(Some(value)) => format!("future<{}>", text(value)),
        TypeDefKind::Stream(stream) => match &stream.element {
            None => "stream".to_owned(),
            Some(element) => format!("stream<{}>", text(element)),
        },
        TypeDefKind::Type(aliased) => text(aliased),
        // Records, variants, enums, flags and resources always have names in WIT.
        other => other.as_str().to_owned(),
    }
}

fn resource_name(resolve: &Resolve, id: wit_parser::TypeId) -> String {
    type_text(resolve, &Type::Id(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signatures(wit: &str) -> Vec<String> {
        let mut resolve = Resolve::default();
        let package = resolve.push_str("test.wit", wit).unwrap();
        let interface = resolve.packages[package].interfaces["i"];
        resolve.interfaces[interface]
            .functions
            .values()
            .map(|func| signature(&resolve, func))
            .collect()
    }

    #[test]
    fn anonymous_types_are_spelled_out_and_named_ones_named() {
        let wit = "package a:b;
            interface i {
                variant error { other(string) }
                get: func(bucket: string, key: string) -> result<option<list<u8>>, error>;
                none: func();
                pair: func() -> (a: u8, b: tuple<s64, char>);
                results: func(a: result, b: result<_, error>, c: result<f32>);
                later: func(a: future, b: future<u8>, c: stream<bool>);
            }";
        assert_eq!(
            signatures(wit),
            [
                "get: func(bucket: string, key: string) -> result<option<list<u8>>, error>",
                "none: func()",
                "pair: func() -> (a: u8, b: tuple<s64, char>)",
                "results: func(a: result, b: result<_, error>, c: result<f32>)",
                "later: func(a: future, b: future<u8>, c: stream<bool>)",
            ]
        );
    }

    #[test]
    fn resource_functions_go_by_their_wire_names_with_self() {
        let wit = "package a:b;
            interface i {
                resource bucket {
                    constructor(name: string);
                    get: func(key: string) -> option<list<u8>>;
                    open: static func(name: string) -> bucket;
                    take: func(other: own<bucket>);
                }
            }";
        assert_eq!(
            signatures(wit),
            [
                "bucket: func(name: string) -> bucket",
                "bucket.get: func(self: borrow<bucket>, key: string) -> option<list<u8>>",
                "bucket.open: func(name: string) -> bucket",
                "bucket.take: func(self: borrow<bucket>, other: bucket)",
            ]
        );
    }
}
