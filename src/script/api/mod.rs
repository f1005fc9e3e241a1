//! The Rhai API, one file per namespace. [`Api`] builds every module once;
//! each engine the host makes shares them.

use rhai::packages::{
    BasicArrayPackage, BasicBlobPackage, BasicMapPackage, BasicMathPackage, BitFieldPackage,
    CorePackage, LogicPackage, MoreStringPackage, Package,
};
use rhai::{Engine, Module, Shared, def_package, exported_module};

pub mod cluster_info;
pub mod env;
pub mod errors;
pub mod join;
pub mod log;
pub mod publish;
pub mod rotate;
pub mod sink_spec;
pub mod time;
pub mod token;
pub mod token_bulk;
pub mod token_meta;
pub mod token_options;
pub mod usage;

def_package! {
    /// Rhai's standard library without its `timestamp()`/`elapsed` clock
    /// (ours is `now()` and the `Timestamp` type) and without file access
    /// (Rhai has none in any package).
    SandboxStdPackage(lib):
        CorePackage,
        BitFieldPackage,
        LogicPackage,
        BasicMathPackage,
        BasicArrayPackage,
        BasicBlobPackage,
        BasicMapPackage,
        MoreStringPackage
    {}
}

/// The namespaces scripts call as `name::function`.
pub const NAMESPACES: [&str; 6] = ["token", "join", "publish", "log", "cluster", "dev"];

/// Every module of the API, built once and shared by every engine.
#[derive(Clone)]
pub struct Api {
    std: Shared<Module>,
    global: Shared<Module>,
    namespaced: Vec<(&'static str, Shared<Module>)>,
}

impl Api {
    pub fn new() -> Self {
        let mut global = Module::new();
        global.combine_flatten(exported_module!(time::time_api));
        global.combine_flatten(exported_module!(env::env_api));
        global.combine_flatten(exported_module!(errors::host_error_api));
        global.combine_flatten(exported_module!(token_meta::json_api));
        // `token::rotate` lives in its own file but in the token namespace.
        let mut token = exported_module!(token::token_api);
        token.combine_flatten(exported_module!(rotate::rotate_api));
        token.combine_flatten(exported_module!(usage::usage_api));
        token.combine_flatten(exported_module!(token_bulk::token_bulk_api));
        token.combine_flatten(exported_module!(token_meta::token_meta_api));
        Self {
            std: SandboxStdPackage::new().as_shared_module(),
            global: global.into(),
            namespaced: vec![
                ("token", token.into()),
                ("join", exported_module!(join::join_api).into()),
                ("publish", exported_module!(publish::publish_api).into()),
                ("log", exported_module!(log::log_api).into()),
                (
                    "cluster",
                    exported_module!(cluster_info::cluster_api).into(),
                ),
                ("dev", exported_module!(usage::dev_api).into()),
            ],
        }
    }

    /// The API plus the test-only modules of `tokensmith test`.
    pub fn with_test_modules() -> Self {
        let mut api = Self::new();
        let mut global = (*api.global).clone();
        for m in crate::testing::api::global_modules() {
            global.combine_flatten(m);
        }
        api.global = global.into();
        api.namespaced
            .extend(crate::testing::api::namespaced_modules());
        api
    }

    /// Registers the whole API into `engine`. Later global modules win over
    /// earlier ones, so our `sleep` replaces the standard library's.
    pub fn register(&self, engine: &mut Engine) {
        engine.register_global_module(self.std.clone());
        self.register_own(engine);
    }

    /// Registers tokensmith's functions only, without Rhai's standard library.
    pub fn register_own(&self, engine: &mut Engine) {
        // The names `type_of()` and error messages show.
        engine
            .register_type_with_name::<token::ScriptToken>("Token")
            .register_type_with_name::<jiff::Timestamp>("Timestamp")
            .register_type_with_name::<jiff::SignedDuration>("Duration")
            .register_type_with_name::<errors::HostError>("HostError");
        crate::testing::api::register_types(engine);
        engine.register_global_module(self.global.clone());
        for (name, m) in &self.namespaced {
            engine.register_static_module(*name, m.clone());
        }
    }
}

impl Default for Api {
    fn default() -> Self {
        Self::new()
    }
}
