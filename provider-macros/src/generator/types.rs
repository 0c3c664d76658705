//! Named WIT types as Rust types, with their wire encoding (`Encode`/`Decode` through the
//! `Reader`/`Writer` helpers of `provider_sdk::wire`).

use proc_macro2::{Literal, TokenStream};
use quote::quote;
use wit_parser::{Enum, Flags, Record, TypeDef, TypeDefKind, TypeId, Variant};

use super::{Cx, Generator, doc_attrs};
use crate::names::{camel, shouty, snake};

const DEBUG: &str = "::core::fmt::Debug";
const CLONE: &str = "::core::clone::Clone";
const COPY: &str = "::core::marker::Copy";
const PARTIAL_EQ: &str = "::core::cmp::PartialEq";
const PLAIN: &[&str] = &[
    "::core::fmt::Debug",
    "::core::clone::Clone",
    "::core::marker::Copy",
    "::core::cmp::PartialEq",
    "::core::cmp::Eq",
    "::core::hash::Hash",
    "::core::cmp::PartialOrd",
    "::core::cmp::Ord",
];

impl Generator<'_> {
    /// The definition of the named type `id`, and its encoding.
    pub(super) fn type_def(&self, id: TypeId, cx: Cx<'_>) -> TokenStream {
        let def = &self.resolve.types[id];
        let Some(wit_name) = &def.name else {
            return TokenStream::new();
        };
        let name = camel(wit_name);
        let docs = doc_attrs(&def.docs);
        match &def.kind {
            TypeDefKind::Record(record) => self.record(def, wit_name, record, cx),
            TypeDefKind::Variant(variant) => self.variant(def, wit_name, variant, cx),
            TypeDefKind::Enum(enum_) => self.enum_(def, wit_name, enum_, cx),
            TypeDefKind::Flags(flags) => self.flags(def, wit_name, flags, cx),
            TypeDefKind::Resource => {
                let allow = self.allow(cx);
                quote! {
                    #docs
                    ///
                    /// A resource: its handles are `ResourceOwn<Self>` and `ResourceBorrow<Self>`.
                    #allow
                    #[derive(Debug)]
                    pub enum #name {}
                }
            }
            // Aliases (`type a = b`, `use x.{y}`), and named tuples, lists, options, results,
            // handles, futures and streams: the type they stand for.
            kind => {
                let ty = self.kind_ty(kind, cx);
                let allow = self.allow(cx);
                quote! {
                    #docs
                    #allow
                    pub type #name = #ty;
                }
            }
        }
    }

    /// The derives of a record or variant: `Debug` always; `Clone` and `PartialEq` unless it
    /// holds a stream or future, which are neither; `Copy` if it is plain data.
    fn data_derives(&self, is_async: bool, is_copy: bool) -> TokenStream {
        match (is_async, is_copy) {
            (true, _) => self.derives(&[DEBUG]),
            (false, false) => self.derives(&[DEBUG, CLONE, PARTIAL_EQ]),
            (false, true) => self.derives(&[DEBUG, CLONE, COPY, PARTIAL_EQ]),
        }
    }

    /// `Encode for T` by encoding `&T`: for types without async parts, whose by-reference
    /// encoding is the one written out.
    fn encode_through_ref(&self, name: &proc_macro2::Ident, cx: Cx<'_>) -> TokenStream {
        let rt = &self.rt;
        let allow = self.allow(cx);
        quote! {
            #allow
            impl #rt::Encode for #name {
                fn encode(self, w: &mut #rt::Writer) -> #rt::Result<()> {
                    #rt::Encode::encode(&self, w)
                }
            }
        }
    }

    /// `Encode for &T` by encoding a copy: for enums and flags, whose by-value encoding is the
    /// one written out.
    fn encode_through_copy(&self, name: &proc_macro2::Ident, cx: Cx<'_>) -> TokenStream {
        let rt = &self.rt;
        let allow = self.allow(cx);
        quote! {
            #allow
            impl #rt::Encode for &#name {
                fn encode(self, w: &mut #rt::Writer) -> #rt::Result<()> {
                    #rt::Encode::encode(*self, w)
                }
            }
        }
    }

    fn record(&self, def: &TypeDef, wit_name: &str, record: &Record, cx: Cx<'_>) -> TokenStream {
        let rt = &self.rt;
        let allow = self.allow(cx);
        let name = camel(wit_name);
        let docs = doc_attrs(&def.docs);
        let is_async = record.fields.iter().any(|field| self.is_async(&field.ty));
        let is_copy = record.fields.iter().all(|field| self.is_copy(&field.ty));
        let derives = self.data_derives(is_async, is_copy);
        let fields: Vec<_> = record
            .fields
            .iter()
            .map(|field| snake(&field.name))
            .collect();
        let types = record.fields.iter().map(|field| self.ty(&field.ty, cx));
        let field_docs = record.fields.iter().map(|field| doc_attrs(&field.docs));
        let indices: Vec<_> = (0..fields.len()).map(Literal::usize_unsuffixed).collect();
        let min_size = Literal::usize_unsuffixed(
            record
                .fields
                .iter()
                .map(|field| self.min_size(&field.ty))
                .sum::<usize>(),
        );
        let async_const = is_async.then(|| {
            quote!(
                const ASYNC: bool = true;
            )
        });
        let encode = if is_async {
            quote! {
                #allow
                impl #rt::Encode for #name {
                    #async_const

                    fn encode(self, w: &mut #rt::Writer) -> #rt::Result<()> {
                        #(w.write_field(#indices, self.#fields)?;)*
                        ::core::result::Result::Ok(())
                    }
                }
            }
        } else {
            let by_value = self.encode_through_ref(&name, cx);
            quote! {
                #by_value

                #allow
                impl #rt::Encode for &#name {
                    fn encode(self, w: &mut #rt::Writer) -> #rt::Result<()> {
                        #(w.write_field(#indices, &self.#fields)?;)*
                        ::core::result::Result::Ok(())
                    }
                }
            }
        };
        quote! {
            #docs
            #allow
            #derives
            pub struct #name {
                #(#field_docs pub #fields: #types,)*
            }

            #encode

            #allow

            impl #rt::Decode for #name {
                const MIN_SIZE: usize = #min_size;
                #async_const

                fn decode(r: &mut #rt::Reader<'_>) -> #rt::Result<Self> {
                    ::core::result::Result::Ok(Self {
                        #(#fields: r.read_field(#indices)?,)*
                    })
                }
            }
        }
    }

    fn variant(&self, def: &TypeDef, wit_name: &str, variant: &Variant, cx: Cx<'_>) -> TokenStream {
        let rt = &self.rt;
        let allow = self.allow(cx);
        let name = camel(wit_name);
        let docs = doc_attrs(&def.docs);
        let is_async = variant
            .cases
            .iter()
            .any(|case| case.ty.as_ref().is_some_and(|ty| self.is_async(ty)));
        let is_copy = variant
            .cases
            .iter()
            .all(|case| case.ty.as_ref().is_none_or(|ty| self.is_copy(ty)));
        let derives = self.data_derives(is_async, is_copy);
        let count = Literal::u32_unsuffixed(variant.cases.len() as u32);
        let mut cases = Vec::new();
        let mut arms = Vec::new();
        let mut decode = Vec::new();
        for (index, case) in variant.cases.iter().enumerate() {
            let case_name = camel(&case.name);
            let case_docs = doc_attrs(&case.docs);
            let index_u32 = Literal::u32_unsuffixed(index as u32);
            let pattern = if index + 1 == variant.cases.len() {
                quote!(_)
            } else {
                quote!(#index_u32)
            };
            match &case.ty {
                Some(ty) => {
                    let payload = self.ty(ty, cx);
                    cases.push(quote!(#case_docs #case_name(#payload)));
                    // By value or, through match ergonomics, by reference.
                    arms.push(quote! {
                        #name::#case_name(payload) => {
                            w.write_case(#index_u32);
                            #rt::Encode::encode(payload, w)
                        }
                    });
                    decode.push(quote! {
                        #pattern => #name::#case_name(<#payload as #rt::Decode>::decode(r)?)
                    });
                }
                None => {
                    cases.push(quote!(#case_docs #case_name));
                    arms.push(quote! {
                        #name::#case_name => {
                            w.write_case(#index_u32);
                            ::core::result::Result::Ok(())
                        }
                    });
                    decode.push(quote!(#pattern => #name::#case_name));
                }
            }
        }
        let async_const = is_async.then(|| {
            quote!(
                const ASYNC: bool = true;
            )
        });
        let encode = if is_async {
            quote! {
                #allow
                impl #rt::Encode for #name {
                    #async_const

                    fn encode(self, w: &mut #rt::Writer) -> #rt::Result<()> {
                        match self {
                            #(#arms)*
                        }
                    }
                }
            }
        } else {
            let by_value = self.encode_through_ref(&name, cx);
            quote! {
                #by_value

                #allow
                impl #rt::Encode for &#name {
                    fn encode(self, w: &mut #rt::Writer) -> #rt::Result<()> {
                        match self {
                            #(#arms)*
                        }
                    }
                }
            }
        };
        quote! {
            #docs
            #allow
            #derives
            pub enum #name {
                #(#cases,)*
            }

            #encode

            #allow

            impl #rt::Decode for #name {
                const MIN_SIZE: usize = 1;
                #async_const

                fn decode(r: &mut #rt::Reader<'_>) -> #rt::Result<Self> {
                    ::core::result::Result::Ok(match r.read_case(#wit_name, #count)? {
                        #(#decode,)*
                    })
                }
            }
        }
    }

    fn enum_(&self, def: &TypeDef, wit_name: &str, enum_: &Enum, cx: Cx<'_>) -> TokenStream {
        let rt = &self.rt;
        let allow = self.allow(cx);
        let name = camel(wit_name);
        let docs = doc_attrs(&def.docs);
        let derives = self.derives(PLAIN);
        let by_ref = self.encode_through_copy(&name, cx);
        let count = Literal::u32_unsuffixed(enum_.cases.len() as u32);
        let cases: Vec<_> = enum_.cases.iter().map(|case| camel(&case.name)).collect();
        let case_docs = enum_.cases.iter().map(|case| doc_attrs(&case.docs));
        let arms = cases.iter().enumerate().map(|(index, case)| {
            let index_u32 = Literal::u32_unsuffixed(index as u32);
            if index + 1 == cases.len() {
                quote!(_ => #name::#case)
            } else {
                quote!(#index_u32 => #name::#case)
            }
        });
        quote! {
            #docs
            #allow
            #derives
            pub enum #name {
                #(#case_docs #cases,)*
            }

            #allow

            impl #rt::Encode for #name {
                fn encode(self, w: &mut #rt::Writer) -> #rt::Result<()> {
                    w.write_case(self as u32);
                    ::core::result::Result::Ok(())
                }
            }

            #by_ref

            #allow

            impl #rt::Decode for #name {
                const MIN_SIZE: usize = 1;

                fn decode(r: &mut #rt::Reader<'_>) -> #rt::Result<Self> {
                    ::core::result::Result::Ok(match r.read_case(#wit_name, #count)? {
                        #(#arms,)*
                    })
                }
            }
        }
    }

    fn flags(&self, def: &TypeDef, wit_name: &str, flags: &Flags, cx: Cx<'_>) -> TokenStream {
        let rt = &self.rt;
        let allow = self.allow(cx);
        let name = camel(wit_name);
        let docs = doc_attrs(&def.docs);
        let count = flags.flags.len();
        let repr = match count {
            0..=8 => quote!(u8),
            9..=16 => quote!(u16),
            17..=32 => quote!(u32),
            33..=64 => quote!(u64),
            65..=128 => quote!(u128),
            _ => {
                self.error(format!(
                    "`{wit_name}` has {count} flags; at most 128 are supported (and wRPC peers take at most 64)"
                ));
                // A placeholder, so that uses of the type do not add errors of their own.
                return quote!(pub struct #name;);
            }
        };
        let derives = self.derives(PLAIN);
        let by_ref = self.encode_through_copy(&name, cx);
        let consts = flags.flags.iter().enumerate().map(|(bit, flag)| {
            let flag_name = shouty(&flag.name);
            let flag_docs = doc_attrs(&flag.docs);
            let bit = Literal::usize_unsuffixed(bit);
            quote!(#flag_docs const #flag_name = 1 << #bit;)
        });
        let min_size = Literal::usize_unsuffixed(count.div_ceil(8));
        let count_literal = Literal::usize_unsuffixed(count);
        quote! {
            #rt::bitflags::bitflags! {
                #docs
                #allow
                #derives
                pub struct #name: #repr {
                    #(#consts)*
                }
            }

            #allow

            impl #rt::Encode for #name {
                fn encode(self, w: &mut #rt::Writer) -> #rt::Result<()> {
                    w.write_flags(::core::primitive::u128::from(self.bits()), #count_literal);
                    ::core::result::Result::Ok(())
                }
            }

            #by_ref

            #allow

            impl #rt::Decode for #name {
                const MIN_SIZE: usize = #min_size;

                fn decode(r: &mut #rt::Reader<'_>) -> #rt::Result<Self> {
                    let bits = r.read_flags(#wit_name, #count_literal)?;
                    // `read_flags` checked that no bit beyond the last flag is set.
                    ::core::result::Result::Ok(Self::from_bits_retain(bits as #repr))
                }
            }
        }
    }
}
