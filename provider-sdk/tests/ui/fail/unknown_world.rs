provider_sdk::generate!({
    inline: "
        package demo:worlds;

        world one {}
        world two {}
    ",
    world: "three",
});

fn main() {}
