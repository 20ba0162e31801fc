//! The programmable-transaction interpreter: argument resolution with Sui's
//! usage rules (move, borrow, borrow mutably), the built-in commands, and
//! dispatch of `MoveCall`s into native packages.

use floe_runtime::framework::{CoinData, coin_value};
use floe_runtime::{Call, NativeError, Param, Registry, Runtime, Value, validate_bcs};
use sui_sdk_types::{
    Address, Argument, Command, CommandArgumentError as ArgErr, ExecutionError, Identifier,
    MakeMoveVector, MergeCoins, MoveCall, MoveLocation, SplitCoins, StructTag, TransferObjects,
    TypeTag,
};

use super::checks::{Checked, InputArg};

/// A failed command: Sui's error, the command index and a readable reason.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub error: Box<ExecutionError>,
    pub command: Option<u64>,
    pub description: String,
}

/// An object input or the gas coin, with what the transaction may do to it.
#[derive(Debug, Clone)]
pub(crate) struct ObjSlot {
    pub id: Address,
    pub value: Option<Value>,
    pub mutable: bool,
    pub by_value: bool,
}

#[derive(Debug, Clone)]
enum InputSlot {
    Pure(Vec<u8>),
    Object(ObjSlot),
}

/// Interpreter state for one transaction.
pub(crate) struct Ptb<'r, 'a> {
    pub rt: &'r mut Runtime<'a>,
    registry: &'a Registry,
    inputs: Vec<InputSlot>,
    pub gas: ObjSlot,
    results: Vec<Vec<Option<Value>>>,
    command: usize,
}

const MAX_VECTOR: usize = 1024;

impl<'r, 'a> Ptb<'r, 'a> {
    pub fn new(
        rt: &'r mut Runtime<'a>,
        registry: &'a Registry,
        checked: &Checked,
        gas: ObjSlot,
    ) -> Self {
        let inputs = checked
            .inputs
            .iter()
            .map(|i| match i {
                InputArg::Pure(b) => InputSlot::Pure(b.clone()),
                InputArg::Object(id) => {
                    let input = &checked.objects[id];
                    let s = input.object.as_struct();
                    InputSlot::Object(ObjSlot {
                        id: *id,
                        value: s.map(|s| Value {
                            ty: s.object_type().clone().into(),
                            bytes: s.contents().to_vec(),
                        }),
                        mutable: input.mutable,
                        by_value: input.mutable && !input.shared,
                    })
                }
            })
            .collect();
        Self {
            rt,
            registry,
            inputs,
            gas,
            results: Vec::new(),
            command: 0,
        }
    }

    fn fail(&self, error: ExecutionError, description: impl Into<String>) -> Failure {
        Failure {
            error: Box::new(error),
            command: Some(self.command as u64),
            description: format!("command {}: {}", self.command, description.into()),
        }
    }

    fn arg_err(&self, argument: usize, kind: ArgErr, why: impl Into<String>) -> Failure {
        let why = why.into();
        self.fail(
            ExecutionError::CommandArgumentError {
                argument: argument as u16,
                kind,
            },
            format!("argument {argument}: {why}"),
        )
    }

    fn is_copy(&self, ty: &TypeTag) -> bool {
        match ty {
            TypeTag::Vector(inner) => self.is_copy(inner),
            TypeTag::Struct(tag) => {
                self.registry.abilities(tag).copy
                    && tag.type_params().iter().all(|t| self.is_copy(t))
            }
            _ => true,
        }
    }

    fn check_type(
        &self,
        pos: usize,
        value: &Value,
        expected: Option<&TypeTag>,
    ) -> Result<(), Failure> {
        match expected {
            Some(t) if *t != value.ty => Err(self.arg_err(
                pos,
                ArgErr::TypeMismatch,
                format!("expected {t}, found {}", value.ty),
            )),
            _ => Ok(()),
        }
    }

    fn pure(&self, pos: usize, bytes: &[u8], expected: Option<&TypeTag>) -> Result<Value, Failure> {
        let Some(ty) = expected else {
            return Err(self.arg_err(
                pos,
                ArgErr::InvalidUsageOfPureArgument,
                "a pure value cannot be used where an object is expected",
            ));
        };
        if !validate_bcs(ty, bytes) {
            return Err(self.arg_err(
                pos,
                ArgErr::InvalidBcsBytes,
                format!("not a valid BCS {ty}"),
            ));
        }
        Ok(Value {
            ty: ty.clone(),
            bytes: bytes.to_vec(),
        })
    }

    fn slot_mut(&mut self, pos: usize, arg: Argument) -> Result<&mut ObjSlot, Failure> {
        match arg {
            Argument::Gas => Ok(&mut self.gas),
            Argument::Input(i) => match self.inputs.get_mut(i as usize) {
                Some(InputSlot::Object(s)) => Ok(s),
                _ => Err(Failure {
                    error: Box::new(ExecutionError::InvariantViolation),
                    command: None,
                    description: format!("input {i} at argument {pos} is not an object"),
                }),
            },
            _ => Err(Failure {
                error: Box::new(ExecutionError::InvariantViolation),
                command: None,
                description: "not a slot".into(),
            }),
        }
    }

    fn result_ref(&self, pos: usize, arg: Argument) -> Result<(usize, usize), Failure> {
        let (r, s, nested) = match arg {
            Argument::Result(r) => (r, 0, false),
            Argument::NestedResult(r, s) => (r, s, true),
            _ => unreachable!("result_ref is only called on results"),
        };
        let Some(values) = self.results.get(r as usize) else {
            return Err(self.arg_err(pos, ArgErr::IndexOutOfBounds { index: r }, "no such result"));
        };
        if !nested && values.len() != 1 {
            return Err(self.arg_err(
                pos,
                ArgErr::InvalidResultArity { result: r },
                format!("result {r} has {} values; use NestedResult", values.len()),
            ));
        }
        if s as usize >= values.len() {
            return Err(self.arg_err(
                pos,
                ArgErr::SecondaryIndexOutOfBounds {
                    result: r,
                    subresult: s,
                },
                "no such nested result",
            ));
        }
        Ok((r as usize, s as usize))
    }

    /// Resolves an argument used by value (moved unless it is copyable).
    fn take(
        &mut self,
        pos: usize,
        arg: Argument,
        expected: Option<&TypeTag>,
        gas_ok: bool,
    ) -> Result<Value, Failure> {
        match arg {
            Argument::Input(i)
                if matches!(self.inputs.get(i as usize), Some(InputSlot::Pure(_))) =>
            {
                let Some(InputSlot::Pure(bytes)) = self.inputs.get(i as usize) else {
                    unreachable!()
                };
                let bytes = bytes.clone();
                self.pure(pos, &bytes, expected)
            }
            Argument::Input(i) if i as usize >= self.inputs.len() => {
                Err(self.arg_err(pos, ArgErr::IndexOutOfBounds { index: i }, "no such input"))
            }
            Argument::Gas | Argument::Input(_) => {
                if matches!(arg, Argument::Gas) && !gas_ok {
                    return Err(self.arg_err(
                        pos,
                        ArgErr::InvalidGasCoinUsage,
                        "the gas coin can be moved only by TransferObjects",
                    ));
                }
                let slot = self.slot_mut(pos, arg)?;
                let (by_value, taken) = (slot.by_value, slot.value.is_none());
                if !by_value {
                    return Err(self.arg_err(
                        pos,
                        ArgErr::InvalidObjectByValue,
                        "shared, immutable or read-only objects cannot be moved",
                    ));
                }
                if taken {
                    return Err(self.arg_err(pos, ArgErr::ArgumentWithoutValue, "already moved"));
                }
                let value = self.slot_mut(pos, arg)?.value.take();
                let value = value
                    .ok_or_else(|| self.arg_err(pos, ArgErr::ArgumentWithoutValue, "moved"))?;
                self.check_type(pos, &value, expected)?;
                Ok(value)
            }
            Argument::Result(_) | Argument::NestedResult(..) => {
                let (r, s) = self.result_ref(pos, arg)?;
                let Some(value) = self.results[r][s].clone() else {
                    return Err(self.arg_err(pos, ArgErr::ArgumentWithoutValue, "already moved"));
                };
                self.check_type(pos, &value, expected)?;
                if !self.is_copy(&value.ty) {
                    self.results[r][s] = None;
                }
                Ok(value)
            }
        }
    }

    /// Resolves an argument used by `&` (or `&mut` when `mutable`).
    fn borrow(
        &mut self,
        pos: usize,
        arg: Argument,
        expected: Option<&TypeTag>,
        mutable: bool,
    ) -> Result<Value, Failure> {
        match arg {
            Argument::Input(i)
                if matches!(self.inputs.get(i as usize), Some(InputSlot::Pure(_))) =>
            {
                self.take(pos, arg, expected, false)
            }
            Argument::Input(i) if i as usize >= self.inputs.len() => {
                Err(self.arg_err(pos, ArgErr::IndexOutOfBounds { index: i }, "no such input"))
            }
            Argument::Gas | Argument::Input(_) => {
                let slot = self.slot_mut(pos, arg)?.clone();
                if mutable && !slot.mutable {
                    return Err(self.arg_err(
                        pos,
                        ArgErr::InvalidObjectByMutRef,
                        "immutable or read-only object borrowed mutably",
                    ));
                }
                let value = slot.value.ok_or_else(|| {
                    self.arg_err(pos, ArgErr::ArgumentWithoutValue, "already moved")
                })?;
                self.check_type(pos, &value, expected)?;
                Ok(value)
            }
            Argument::Result(_) | Argument::NestedResult(..) => {
                let (r, s) = self.result_ref(pos, arg)?;
                let value = self.results[r][s].clone().ok_or_else(|| {
                    self.arg_err(pos, ArgErr::ArgumentWithoutValue, "already moved")
                })?;
                self.check_type(pos, &value, expected)?;
                Ok(value)
            }
        }
    }

    /// Writes a mutably borrowed value back where it came from.
    fn put_back(&mut self, pos: usize, arg: Argument, value: Value) -> Result<(), Failure> {
        match arg {
            Argument::Gas | Argument::Input(_) => {
                self.slot_mut(pos, arg)?.value = Some(value);
            }
            Argument::Result(_) | Argument::NestedResult(..) => {
                let (r, s) = self.result_ref(pos, arg)?;
                self.results[r][s] = Some(value);
            }
        }
        Ok(())
    }

    /// Runs every command.
    pub fn run(&mut self, commands: &[Command]) -> Result<(), Failure> {
        for (i, command) in commands.iter().enumerate() {
            self.command = i;
            let results = match command {
                Command::MoveCall(c) => self.move_call(c)?,
                Command::TransferObjects(t) => self.transfer_objects(t)?,
                Command::SplitCoins(s) => self.split_coins(s)?,
                Command::MergeCoins(m) => self.merge_coins(m)?,
                Command::MakeMoveVector(v) => self.make_move_vec(v)?,
                _ => {
                    return Err(self.fail(
                        ExecutionError::FeatureNotYetSupported,
                        "Publish, and package upgrades, are not supported by the floe devnet ledger",
                    ));
                }
            };
            self.results.push(results.into_iter().map(Some).collect());
        }
        Ok(())
    }

    fn coin_of(&self, pos: usize, value: &Value) -> Result<(TypeTag, CoinData), Failure> {
        let t = value
            .struct_tag()
            .and_then(StructTag::is_coin)
            .cloned()
            .ok_or_else(|| {
                self.arg_err(
                    pos,
                    ArgErr::TypeMismatch,
                    format!("{} is not a Coin", value.ty),
                )
            })?;
        let coin = bcs::from_bytes(&value.bytes)
            .map_err(|e| self.arg_err(pos, ArgErr::InvalidBcsBytes, e.to_string()))?;
        Ok((t, coin))
    }

    fn split_coins(&mut self, s: &SplitCoins) -> Result<Vec<Value>, Failure> {
        let value = self.borrow(0, s.coin, None, true)?;
        let (t, mut coin) = self.coin_of(0, &value)?;
        let mut out = Vec::with_capacity(s.amounts.len());
        for (k, amount) in s.amounts.iter().enumerate() {
            let v = self.take(k + 1, *amount, Some(&TypeTag::U64), false)?;
            let amount: u64 = bcs::from_bytes(&v.bytes)
                .map_err(|e| self.arg_err(k + 1, ArgErr::InvalidBcsBytes, e.to_string()))?;
            coin.value = coin.value.checked_sub(amount).ok_or_else(|| {
                self.fail(
                    ExecutionError::InsufficientCoinBalance,
                    format!("cannot split {amount} from a coin holding {}", coin.value),
                )
            })?;
            let id = self
                .rt
                .new_uid()
                .map_err(|e| self.fail(ExecutionError::InvariantViolation, e.to_string()))?;
            out.push(coin_value(&t, CoinData { id, value: amount }));
        }
        self.put_back(0, s.coin, coin_value(&t, coin))?;
        Ok(out)
    }

    fn merge_coins(&mut self, m: &MergeCoins) -> Result<Vec<Value>, Failure> {
        let value = self.borrow(0, m.coin, None, true)?;
        let (t, mut coin) = self.coin_of(0, &value)?;
        let expected: TypeTag = value.ty.clone();
        for (k, arg) in m.coins_to_merge.iter().enumerate() {
            if *arg == m.coin {
                return Err(self.arg_err(
                    k + 1,
                    ArgErr::InvalidValueUsage,
                    "a coin cannot be merged into itself",
                ));
            }
            let other = self.take(k + 1, *arg, Some(&expected), false)?;
            let (_, other) = self.coin_of(k + 1, &other)?;
            coin.value = coin.value.checked_add(other.value).ok_or_else(|| {
                self.fail(
                    ExecutionError::CoinBalanceOverflow,
                    "merged balance overflows u64",
                )
            })?;
            self.rt
                .delete_uid(other.id)
                .map_err(|e| self.fail(ExecutionError::InvariantViolation, e.to_string()))?;
        }
        self.put_back(0, m.coin, coin_value(&t, coin))?;
        Ok(vec![])
    }

    fn transfer_objects(&mut self, t: &TransferObjects) -> Result<Vec<Value>, Failure> {
        let pos = t.objects.len();
        let to = self.take(pos, t.address, Some(&TypeTag::Address), false)?;
        let to: Address = bcs::from_bytes(&to.bytes)
            .map_err(|e| self.arg_err(pos, ArgErr::InvalidBcsBytes, e.to_string()))?;
        for (k, arg) in t.objects.iter().enumerate() {
            let object = self.take(k, *arg, None, true)?;
            let abilities = object
                .struct_tag()
                .map(|tag| self.registry.abilities(tag))
                .unwrap_or_default();
            if !(abilities.key && abilities.store) {
                return Err(self.arg_err(
                    k,
                    ArgErr::InvalidTransferObject,
                    format!("{} is not an object with public transfer", object.ty),
                ));
            }
            self.rt
                .transfer(object, to)
                .map_err(|e| self.fail(ExecutionError::InvariantViolation, e.to_string()))?;
        }
        Ok(vec![])
    }

    fn make_move_vec(&mut self, v: &MakeMoveVector) -> Result<Vec<Value>, Failure> {
        if v.elements.len() > MAX_VECTOR {
            return Err(self.fail(
                ExecutionError::ArityMismatch,
                format!("at most {MAX_VECTOR} elements"),
            ));
        }
        let mut ty = v.type_.clone();
        if ty.is_none() && v.elements.is_empty() {
            return Err(self.fail(
                ExecutionError::TypeArityMismatch,
                "an empty vector needs a type",
            ));
        }
        let mut bytes = Vec::new();
        let mut n = v.elements.len();
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                bytes.push(b);
                break;
            }
            bytes.push(b | 0x80);
        }
        for (k, arg) in v.elements.iter().enumerate() {
            let element = self.take(k, *arg, ty.as_ref(), false)?;
            if ty.is_none() {
                if element
                    .struct_tag()
                    .is_none_or(|t| !self.registry.abilities(t).key)
                {
                    return Err(self.arg_err(
                        k,
                        ArgErr::InvalidMakeMoveVecNonObjectArgument,
                        "untyped MakeMoveVec takes objects only",
                    ));
                }
                ty = Some(element.ty.clone());
            }
            bytes.extend_from_slice(&element.bytes);
        }
        let ty = ty.unwrap_or(TypeTag::U8);
        Ok(vec![Value {
            ty: TypeTag::Vector(Box::new(ty)),
            bytes,
        }])
    }

    fn move_call(&mut self, c: &MoveCall) -> Result<Vec<Value>, Failure> {
        let name = format!("{}::{}::{}", c.package, c.module, c.function);
        let Some(function) = self
            .registry
            .function(&c.package, c.module.as_str(), c.function.as_str())
            .cloned()
        else {
            let why = if self.registry.has_package(&c.package) {
                format!("function {name} not found")
            } else {
                format!("package {} not found (function {name})", c.package)
            };
            return Err(self.fail(ExecutionError::FunctionNotFound, why));
        };
        if c.type_arguments.len() != function.type_params as usize {
            return Err(self.fail(
                ExecutionError::TypeArityMismatch,
                format!(
                    "{name} takes {} type arguments, got {}",
                    function.type_params,
                    c.type_arguments.len()
                ),
            ));
        }
        let explicit: Vec<&Param> = function
            .params
            .iter()
            .filter(|p| **p != Param::TxContext)
            .collect();
        if explicit.len() != c.arguments.len() {
            return Err(self.fail(
                ExecutionError::ArityMismatch,
                format!(
                    "{name} takes {} arguments, got {}",
                    explicit.len(),
                    c.arguments.len()
                ),
            ));
        }
        let mut args = Vec::with_capacity(explicit.len());
        for (pos, (param, arg)) in explicit.iter().zip(&c.arguments).enumerate() {
            let (ty, kind) = match param {
                Param::Val(t) => (t, 0),
                Param::Ref(t) => (t, 1),
                Param::Mut(t) => (t, 2),
                Param::TxContext => unreachable!("filtered out"),
            };
            let ty = ty.instantiate(&c.type_arguments).ok_or_else(|| {
                self.fail(
                    ExecutionError::TypeArityMismatch,
                    format!("{name}: bad type parameter"),
                )
            })?;
            let value = match kind {
                0 => self.take(pos, *arg, Some(&ty), false)?,
                1 => self.borrow(pos, *arg, Some(&ty), false)?,
                _ => self.borrow(pos, *arg, Some(&ty), true)?,
            };
            args.push(value);
        }
        self.rt.set_event_origin(c.package, c.module.clone());
        let mut call = Call::new(&mut *self.rt, c.type_arguments.clone(), args);
        let outcome = (function.body)(&mut call);
        let args = call.into_args();
        let returns = match outcome {
            Ok(r) => r,
            Err(NativeError::Abort(at)) => {
                let Ok(module) = Identifier::new(at.module) else {
                    return Err(self.fail(
                        ExecutionError::VmInvariantViolation,
                        format!("{name}: abort in invalid module name {:?}", at.module),
                    ));
                };
                // The location is the module that declares the constant (as
                // on Sui); the function is only known when that is the
                // called module itself.
                let called = at.package == c.package && module == c.module;
                return Err(self.fail(
                    ExecutionError::MoveAbort {
                        location: MoveLocation {
                            package: at.package,
                            module,
                            function: if called { function.index } else { 0 },
                            instruction: 0,
                            function_name: called.then(|| c.function.clone()),
                        },
                        code: at.code,
                    },
                    format!("{name} aborted in {at}"),
                ));
            }
            Err(NativeError::InvalidArgument { index, reason }) => {
                return Err(self.arg_err(
                    index,
                    ArgErr::InvalidBcsBytes,
                    format!("{name}: {reason}"),
                ));
            }
            Err(NativeError::Invariant(why)) => {
                return Err(self.fail(
                    ExecutionError::VmInvariantViolation,
                    format!("{name}: {why}"),
                ));
            }
        };
        for (pos, ((param, arg), value)) in explicit.iter().zip(&c.arguments).zip(args).enumerate()
        {
            if matches!(param, Param::Mut(_)) {
                self.put_back(pos, *arg, value)?;
            }
        }
        let declared: Option<Vec<TypeTag>> = function
            .returns
            .iter()
            .map(|t| t.instantiate(&c.type_arguments))
            .collect();
        let ok = declared.is_some_and(|d| {
            d.len() == returns.len() && d.iter().zip(&returns).all(|(t, v)| *t == v.ty)
        });
        if !ok {
            return Err(self.fail(
                ExecutionError::InvalidPublicFunctionReturnType { index: 0 },
                format!("{name} returned values that do not match its signature"),
            ));
        }
        Ok(returns)
    }

    /// After the last command: values nobody consumed must be droppable.
    pub fn check_unused(&self) -> Result<(), Failure> {
        for (r, values) in self.results.iter().enumerate() {
            for (s, value) in values.iter().enumerate() {
                if let Some(v) = value
                    && !self.registry.has_drop(&v.ty)
                {
                    return Err(Failure {
                        error: Box::new(ExecutionError::UnusedValueWithoutDrop {
                            result: r as u16,
                            subresult: s as u16,
                        }),
                        command: None,
                        description: format!(
                            "result {r}.{s} of type {} was never used and cannot be dropped",
                            v.ty
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    /// What each command returned so far.
    pub fn results(&self) -> &[Vec<Option<Value>>] {
        &self.results
    }

    /// Object inputs as they stand after the commands.
    pub fn object_slots(&self) -> impl Iterator<Item = &ObjSlot> {
        self.inputs.iter().filter_map(|i| match i {
            InputSlot::Object(s) => Some(s),
            InputSlot::Pure(_) => None,
        })
    }
}
