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

static API: std::sync::LazyLock<Api> = std::sync::LazyLock::new(Api::build);
static TEST_API: std::sync::LazyLock<Api> = std::sync::LazyLock::new(Api::build_with_test_modules);

impl Api {
    /// The API, built on first use and shared by every host of the process
    /// (a fleet run makes one host per context: building the modules each
    /// time was most of a member's start-up).
    pub fn new() -> Self {
        API.clone()
    }

    /// The API plus the test-only modules of `tokensmith test`.
    pub fn with_test_modules() -> Self {
        TEST_API.clone()
    }

    /// Indexed and named once here, the modules are registered into each
    /// engine as they are, without the copy Rhai makes of a module it has
    /// to index.
    fn indexed(mut self) -> Self {
        for m in [&mut self.std, &mut self.global] {
            index(m, None);
        }
        for (name, m) in &mut self.namespaced {
            index(m, Some(name));
        }
        self
    }

    fn build() -> Self {
        Self::unindexed().indexed()
    }

    fn unindexed() -> Self {
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

    fn build_with_test_modules() -> Self {
        let mut api = Self::unindexed();
        let mut global = (*api.global).clone();
        for m in crate::testing::api::global_modules() {
            global.combine_flatten(m);
        }
        api.global = global.into();
        api.namespaced
            .extend(crate::testing::api::namespaced_modules());
        api.indexed()
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

/// Builds `m`'s index (and names it `name`) in place.
fn index(m: &mut Shared<Module>, name: Option<&str>) {
    let mut module: Module = (**m).clone();
    if let Some(name) = name.filter(|_| module.id().is_none()) {
        module.set_id(name);
    }
    module.build_index();
    *m = module.into();
}

impl Default for Api {
    fn default() -> Self {
        Self::new()
    }
}
