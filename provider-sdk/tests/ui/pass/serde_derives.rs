//! `additional_derives` with serde, through the `serde` feature of `provider-sdk`.

mod bindings {
    provider_sdk::generate!({
        inline: "
            package demo:serde;

            interface types {
                flags perms { read, write }
                enum color { red, green }
                variant shape { circle(f64), none }
                record item {
                    name: string,
                    data: list<u8>,
                    perms: perms,
                    color: color,
                    shape: shape,
                }
            }

            world w {
                import types;
            }
        ",
        additional_derives: [serde::Serialize, serde::Deserialize],
    });
}

use bindings::demo::serde::types::{Color, Item, Perms, Shape};

fn main() {
    let item = Item {
        name: "x".into(),
        data: vec![1, 2].into(),
        perms: Perms::READ,
        color: Color::Green,
        shape: Shape::Circle(1.0),
    };
    let json = serde_json::to_string(&item).unwrap();
    let back: Item = serde_json::from_str(&json).unwrap();
    assert_eq!(back, item);
}
