"""Controlled vocabularies: every value a typology field may take.

Each term carries its display label (the source paper's wording where it has
one), a definition, where that definition comes from (a seed document and
section, or ``ours``), and the synonyms people use in the literature.  The
query parser, the renderers and ``schema/vocabulary.md`` all read these terms;
no other module may hard-code a synonym.

Keys of ``SOURCES`` name the seed documents in ``shared/seeds`` (see
``SEED_DOCUMENTS``).  ``attrs`` hold per-term facts other layers need (the
Lialin letter of a class, the family of a position), so that code stays
generic.
"""

from __future__ import annotations

# Plain classes rather than dataclasses: this module is imported by the fast
# query path, where importing dataclasses/typing/enum would double start-up time.


class Term:
    __slots__ = ("value", "label", "definition", "definition_source", "synonyms", "attrs")

    def __init__(self, value: str, label: str, definition: str, definition_source: str, synonyms: tuple = (), attrs: dict | None = None):
        self.value, self.label, self.definition, self.definition_source = value, label, definition, definition_source
        self.synonyms, self.attrs = tuple(synonyms), dict(attrs or {})

    def __repr__(self) -> str:
        return f"Term({self.value!r})"


class Vocabulary:
    __slots__ = ("name", "title", "description", "terms")

    def __init__(self, name: str, title: str, description: str, terms: tuple):
        self.name, self.title, self.description, self.terms = name, title, description, tuple(terms)

    def __iter__(self):
        return iter(self.terms)

    def values(self) -> list[str]:
        return [t.value for t in self.terms]

    def term(self, value: str) -> Term:
        for t in self.terms:
            if t.value == value:
                return t
        raise KeyError(value)


# The seed documents a record may cite as ``source.ref``; ``paper`` (the
# record's own citation) and keys of the record's ``references`` are the others.
SEED_DOCUMENTS: dict[str, dict[str, str]] = {
    "sabry-belz-2023": {
        "file": "001_f2b5ac823908d8b0.txt",
        "citation": "Sabry & Belz 2023, PEFT-Ref: A Modular Reference Architecture and Typology for Parameter-Efficient Finetuning Techniques, arXiv:2304.12410",
    },
    "lialin-2023": {
        "file": "002_4a8cce26ad488ca0.txt",
        "citation": "Lialin, Deshpande & Rumshisky 2023, Scaling Down to Scale Up: A Guide to Parameter-Efficient Fine-Tuning, arXiv:2303.15647v1",
    },
    "he-2022": {
        "file": "003_b47e645bfcbad8c6.txt",
        "citation": "He, Zhou, Ma, Berg-Kirkpatrick & Neubig 2022, Towards a Unified View of Parameter-Efficient Transfer Learning, ICLR 2022, arXiv:2110.04366",
    },
    "pu-2023": {
        "file": "004_892f7d5351468f9d.txt",
        "citation": "Pu, Jain, Yin & Kaplan 2023, Empirical Analysis of the Strengths and Weaknesses of PEFT Techniques for LLMs, arXiv:2304.14999",
    },
}

UNKNOWN = Term(
    "unknown",
    "unknown",
    "No source we hold states this value. An honest gap, not a guess.",
    "ours",
    ("not stated", "not reported"),
)


def _t(value: str, label: str, definition: str, source: str = "ours", synonyms: tuple = (), **attrs) -> Term:
    return Term(value, label, definition, source, synonyms, attrs)


# --- PEFT-Ref (Sabry & Belz 2023) ------------------------------------------------

INTRA_CONNECTIVITY = Vocabulary(
    "intra_connectivity",
    "Intra-connectivity",
    "PEFT-Ref: how densely the neurons inside one PEFT module are connected to each other.",
    (
        _t("dense", "Dense", "Every unit of one internal layer of the module connects to every unit of the next (fully-connected projections, as in a bottleneck MLP or low-rank matrices).", "ours", ("fully connected", "fully-connected", "mlp")),
        _t("sparse", "Sparse", "Only some internal connections exist (e.g. pruned or masked projections).", "ours", ("sparsely connected", "pruned")),
        _t("none", "None", "The module has no internal connections between units: it is a set of free vectors (soft prompts, prefixes, scaling vectors).", "ours", ("no connectivity", "vectors only", "n/a")),
        UNKNOWN,
    ),
)

INTER_CONNECTIVITY = Vocabulary(
    "inter_connectivity",
    "Inter-connectivity",
    "PEFT-Ref: how the PEFT module is connected to the Transformer components around it.",
    (
        _t("dense", "Dense", "The module is connected to (reads from or writes to) every unit of the component it attaches to.", "ours", ("fully connected",)),
        _t("sparse", "Sparse", "The module is connected to only some units of the component it attaches to.", "ours", ()),
        _t("none", "None", "The module is not wired to surrounding components by connections of its own; it only supplies values consumed by an existing operation (e.g. prepended vectors).", "ours", ("not connected",)),
        UNKNOWN,
    ),
)

PARAMETER_ADAPTATION = Vocabulary(
    "parameter_adaptation",
    "Parameter adaptation type",
    "PEFT-Ref: how the module's trainable parameters relate to the pre-trained model's parameters.",
    (
        _t("addition", "Addition", "New parameters are added to the model; pre-trained parameters stay frozen.", "ours", ("additive", "added parameters", "new parameters")),
        _t("reparametrization", "Reparametrization", "The update to existing weights is re-expressed through a smaller set of new parameters (low-rank, Kronecker, subspace projection).", "ours", ("reparameterization", "reparametrisation", "reparameterisation", "low-rank")),
        _t("selection", "Selection", "A subset of the existing pre-trained parameters is updated; nothing is added.", "ours", ("selective", "subset of parameters")),
        _t("full", "Full update", "All pre-trained parameters are updated (the full fine-tuning baseline).", "ours", ("full fine-tuning", "all parameters")),
        UNKNOWN,
    ),
)

PARAMETER_SHARING = Vocabulary(
    "parameter_sharing",
    "Parameter sharing",
    "PEFT-Ref: whether the module's parameters are shared between its instances (e.g. across layers).",
    (
        _t("none", "None", "Each insertion has its own parameters.", "ours", ("no sharing", "not shared", "independent", "unshared")),
        _t("shared-across-layers", "Shared across layers", "Some or all of the module's parameters are shared between the instances inserted in different layers.", "ours", ("shared", "sharing", "share parameters", "shares parameters", "cross-layer sharing", "tied across layers", "share parameters across layers", "share weights across layers", "across layers")),
        _t("shared-across-tasks", "Shared across tasks", "Parameters are shared between the modules of different tasks (multi-task sharing), not between layers.", "ours", ("task sharing", "multi-task sharing", "shared between tasks")),
        _t("single-instance", "Single instance", "The module exists once in the whole model, so sharing between instances does not arise.", "ours", ("not applicable", "n/a", "one instance")),
        UNKNOWN,
    ),
)

INPUT_TYPE = Vocabulary(
    "input_type",
    "Input type",
    "PEFT-Ref: what the module takes as its input.",
    (
        _t("hidden-states", "Hidden states", "The module reads hidden representations produced inside the Transformer (the input x or output h of a sub-layer).", "ours", ("hidden representations", "activations", "hidden state")),
        _t("embeddings", "Token embeddings", "The module reads (or is concatenated with) the input token embeddings.", "ours", ("input embeddings", "word embeddings", "input layer")),
        _t("none", "None", "The module has no input of its own: it is a parameter tensor supplied to the model as-is (free vectors).", "ours", ("no input", "free parameters")),
        _t("weights", "Weights", "The module acts on existing weight matrices rather than activations (selective and weight-space methods).", "ours", ("parameters", "weight matrices")),
        UNKNOWN,
    ),
)

INSERTION_FORM = Vocabulary(
    "insertion_form",
    "Insertion form",
    "PEFT-Ref and He et al. §3.2: how the added module is placed relative to the Transformer component it modifies.",
    (
        _t("sequential", "Sequential", "The module takes the output h of a component and replaces it with a function of h (input and output are both h).", "he-2022 §3.2", ("serial", "series", "in series", "sequentially")),
        _t("parallel", "Parallel", "The module reads the input x of a component and its output is composed with the component's output h, bypassing the component.", "he-2022 §3.2", ("side", "in parallel", "bypass")),
        _t("prepended", "Prepended", "Trainable vectors are concatenated in front of the sequence (input embeddings or keys/values); He et al. show this is equivalent to a gated parallel module.", "ours", ("prepend", "prefix", "concatenated")),
        _t("interleaved", "Interleaved", "Trainable vectors are placed at chosen positions inside the input sequence (a prompt template, as in P-Tuning), not only in front of it.", "ours", ("template", "inside the input")),
        _t("in-place", "In-place", "No module is inserted: existing weights are updated or reparametrised in place.", "ours", ("none", "no insertion", "no module")),
        _t("side-network", "Side network", "A separate network runs beside the backbone and reads its hidden states; the backbone's own computation is unchanged.", "ours", ("ladder", "side tuning")),
        _t("training-procedure", "Training procedure", "Nothing is inserted into the model: the method changes the optimiser, gradient, quantisation or initialisation of training.", "ours", ("optimizer", "optimiser", "recipe")),
        UNKNOWN,
    ),
)

NUMBER_OF_INSERTIONS = Vocabulary(
    "number_of_insertions",
    "Number of insertions",
    "PEFT-Ref: how many instances of the module are inserted into the model.",
    (
        _t("one", "One", "A single instance for the whole model (e.g. at the input layer).", "ours", ("single", "once", "1")),
        _t("per-layer", "One per layer", "One instance in each Transformer layer (L in total).", "ours", ("every layer", "each layer", "L")),
        _t("multiple-per-layer", "Several per layer", "More than one instance in each Transformer layer (e.g. after attention and after the FFN, or one per weight matrix).", "ours", ("twice per layer", "2L", "multiple")),
        _t("some-layers", "Some layers", "Instances in a selected subset of layers only.", "ours", ("selected layers", "layer subset")),
        _t("none", "None", "No module is inserted (selective methods and the full fine-tuning baseline).", "ours", ("no insertion",)),
        UNKNOWN,
    ),
)

INTEGRATION_FORM = Vocabulary(
    "integration_form",
    "Integration form",
    "PEFT-Ref: how the module's output is combined with the Transformer's computation.",
    (
        _t("direct-addition", "Direct addition", "The module output is added to the hidden representation unchanged.", "ours", ("addition", "plain addition", "simple addition")),
        _t("scaled-addition", "Scaled addition", "The module output is multiplied by a scalar s before being added.", "ours", ()),
        _t("gated-addition", "Gated addition", "The module output and the original representation are interpolated by a (possibly input-dependent) gate.", "ours", ("gating", "weighted addition")),
        _t("concatenation", "Concatenation", "The module's vectors are concatenated with the sequence, keys or values.", "ours", ("concat", "prepending")),
        _t("rescaling", "Rescaling", "The module's vectors multiply activations element-wise.", "ours", ("element-wise multiplication", "scaling", "multiplicative")),
        _t("weight-update", "Weight update", "The module changes existing weights (selected or reparametrised); nothing is combined at run time once merged.", "ours", ("in-place update",)),
        _t("replacement", "Replacement", "The output of a separate (side) network replaces the backbone's output.", "ours", ("side network output", "replace")),
        _t("multiplication", "Multiplication", "A learned matrix multiplies the weight or hidden representation.", "ours", ("matrix multiplication", "rotation")),
        UNKNOWN,
    ),
)

WORKSPACE = Vocabulary(
    "workspace",
    "Workspace",
    "PEFT-Ref: the Transformer component the module works in.",
    (
        _t("embedding", "Embedding layer", "The input embedding layer.", "sabry-belz-2023 (seed summary, Mechanism 3)", ("embeddings", "input layer", "input embeddings", "embedding layer")),
        _t("attention", "Attention layer", "The multi-head attention sub-layer (its projections, keys/values or output).", "sabry-belz-2023 (seed summary, Mechanism 3)", ("attention", "mha", "multi-head attention", "self-attention", "attention layer", "attn")),
        _t("ffn", "FFN layer", "The position-wise feed-forward sub-layer.", "sabry-belz-2023 (seed summary, Mechanism 3)", ("feed-forward", "feedforward", "feed forward", "mlp", "ffn layer", "fc")),
        _t("layer-norm", "Layer norm", "The layer-normalisation parameters.", "ours", ("layernorm", "layer normalization", "norm")),
        _t("block", "Transformer block", "The whole Transformer layer (its output).", "ours", ("layer", "transformer layer", "block output")),
        _t("whole-model", "Whole model", "Parameters anywhere in the model (sparse or subspace updates to all weights).", "ours", ("all parameters", "entire model", "all layers")),
        _t("side-network", "Side network", "A network beside the backbone.", "ours", ("ladder",)),
        UNKNOWN,
    ),
)

# --- He et al. 2022 unified view ------------------------------------------------

FUNCTIONAL_FORM = Vocabulary(
    "functional_form",
    "Functional form (category)",
    "He et al. §3.2: the function that computes the modification Δh; we group formulas into categories.",
    (
        _t("bottleneck-mlp", "proj_down → nonlinear → proj_up", "A down-projection to a bottleneck r, a nonlinearity, an up-projection (adapters).", "he-2022 §3.2", ("adapter", "bottleneck", "mlp", "down-up projection")),
        _t("low-rank-linear", "low-rank linear", "proj_down → proj_up with the nonlinearity degenerated to identity (LoRA).", "he-2022 §3.2", ("low-rank", "low rank", "lora")),
        _t("prefix-attention", "attention over prefixes", "softmax(x W_q P_kᵀ) P_v: attention of the query over learned prefix keys/values.", "he-2022 §3.1", ("prefix", "prefix attention")),
        _t("soft-prompt", "soft prompt", "Learned vectors prepended to the input embeddings.", "ours", ("prompt", "continuous prompt", "soft prompts")),
        _t("kronecker", "Kronecker product", "The update is a Kronecker product A ⊗ B of two small matrices.", "ours", ("kronecker product",)),
        _t("phm", "sum of Kronecker products", "Parameterised hypercomplex multiplication: W = Σᵢ Aᵢ ⊗ Bᵢ.", "ours", ("hypercomplex", "parameterized hypercomplex multiplication")),
        _t("elementwise-scaling", "element-wise scaling vector", "A learned vector multiplies activations element-wise.", "ours", ("rescaling", "scaling vector", "ia3")),
        _t("attention-module", "small attention module", "A small multi-head attention computes Δh from the sub-layer input.", "ours", ("tiny attention",)),
        _t("mixture-of-modules", "mixture of modules", "Several module instances (experts) combined by routing, gating or averaging.", "ours", ("mixture of experts", "moe", "mixture")),
        _t("selected-weights", "selected existing weights", "Δ is an update restricted to a selected subset of existing parameters.", "ours", ("subset", "selection")),
        _t("sparse-delta", "sparse update", "Δ is a sparse update vector over the model's parameters, chosen by a mask.", "ours", ("sparse", "mask", "sparse mask")),
        _t("subspace-projection", "random subspace projection", "Δθ = P θ_d: a low-dimensional vector projected into parameter space by a fixed random transform.", "ours", ("intrinsic dimension", "fastfood")),
        _t("side-network", "side network", "A separate small network computes the output from backbone hidden states.", "ours", ("ladder", "side transformer")),
        _t("full-update", "full update", "Every parameter is updated (baseline).", "ours", ("full",)),
        _t("weight-decomposition", "magnitude × direction", "The weight is decomposed into a magnitude vector and a direction matrix; the direction gets a low-rank update and the magnitude is trained (DoRA).", "ours", ("decomposed", "magnitude and direction", "dora")),
        _t("hadamard-low-rank", "Hadamard product of low-rank factors", "ΔW = (B₁A₁) ⊙ (B₂A₂): the element-wise product of two low-rank matrices (LoHa).", "ours", ("hadamard", "loha")),
        _t("shared-random-projection", "frozen shared random projections", "ΔW = Λ_b B Λ_d A with frozen random A, B shared by all layers and trained scaling vectors (VeRA-style).", "ours", ("random projection", "vera")),
        _t("svd-low-rank", "SVD-form low-rank update", "ΔW = P Λ Q with singular values that can be pruned to reallocate rank (AdaLoRA).", "ours", ("svd", "adaptive rank")),
        _t("orthogonal-multiplicative", "orthogonal multiplicative update", "W' = R W with a learned orthogonal (e.g. block-diagonal or butterfly) matrix R (OFT, BOFT).", "ours", ("orthogonal", "rotation", "oft")),
        _t("householder", "Householder reflections", "W' = W ∏ᵢ (I − 2uᵢuᵢᵀ): a chain of learned Householder reflections (HRA).", "ours", ("householder reflection", "reflections")),
        _t("spectral", "sparse spectral coefficients", "ΔW is the inverse discrete Fourier (or wavelet) transform of a few learned spectral coefficients.", "ours", ("fourier", "spectral", "frequency domain")),
        _t("representation-intervention", "low-rank representation intervention", "h ← h + Rᵀ(W h + b − R h): a learned edit of hidden states inside a low-rank subspace at chosen positions (ReFT).", "ours", ("intervention", "reft", "representation editing")),
        _t("circulant", "circulant convolution", "ΔW is a (block-)circulant matrix, applied as a circular convolution computed with the FFT (C3A).", "ours", ("circular convolution", "circulant matrix")),
        _t("stochastic-update", "sampled update", "The update is sampled from a learned distribution during training; its mean is used at inference (probabilistic variants such as PVeRA).", "ours", ("probabilistic", "stochastic", "variational")),
        _t("token-embedding", "trainable token embeddings", "Only the embedding rows of selected (new or existing) tokens are trained.", "ours", ("trainable tokens", "new tokens")),
        _t("gradient-projection", "low-rank gradient projection", "The optimiser works on gradients projected to a low-rank subspace; the weights themselves are updated in full (GaLore-style).", "ours", ("galore", "projected gradients")),
        _t("training-recipe", "training recipe over another method", "The method changes how another method is trained or stored (quantised base, learning rates, initialisation), not the functional form.", "ours", ("recipe", "initialisation", "initialization")),
        UNKNOWN,
    ),
)

MODIFIED_REPRESENTATION = Vocabulary(
    "modified_representation",
    "Modified representation",
    "He et al. §3.2: which hidden representation is directly modified.",
    (
        _t("head-attention", "head attn", "The output of each attention head (before W_o).", "he-2022 Table 1", ("head attn", "attention heads", "head attention")),
        _t("attention", "attn", "The output of the attention sub-layer.", "he-2022 Table 1", ("attn", "attention output", "mha")),
        _t("attention-projections", "attn key/val", "The outputs of the attention projections (queries, keys, values).", "he-2022 Table 1", ("attn key/val", "key/value", "keys and values", "qkv")),
        _t("ffn", "ffn", "The output of the feed-forward sub-layer.", "he-2022 Table 1", ("ffn output", "feed-forward output")),
        _t("ffn-hidden", "ffn hidden", "The intermediate activation inside the FFN (after the first projection).", "ours", ("ffn intermediate", "ffn activation")),
        _t("input-embeddings", "input embeddings", "The input token embeddings (sequence extended).", "ours", ("embeddings", "input layer")),
        _t("block", "layer output", "The output of a whole Transformer layer.", "ours", ("layer output",)),
        _t("weights", "weights", "Existing weights are changed; no single hidden representation is targeted.", "ours", ("parameters",)),
        _t("output", "network output", "The final output is computed by a separate (side) network.", "ours", ()),
        _t("gradients", "gradients", "The method acts on gradients or optimiser state, not on a representation.", "ours", ("optimizer state",)),
        UNKNOWN,
    ),
)

COMPOSITION = Vocabulary(
    "composition",
    "Composition function",
    "He et al. §3.2: how Δh is composed with the original representation h.",
    (
        _t("plain-addition", "h ← h + Δh", "Simple (unweighted) addition.", "he-2022 §3.2", ("simple addition", "plain addition", "addition", "direct addition", "additive", "unweighted addition")),
        _t("scaled-addition", "h ← h + s·Δh", "Δh is scaled by a constant s before addition (LoRA, scaled parallel adapter).", "he-2022 §3.2", ("scaled addition", "scaling", "scaled")),
        _t("gated-addition", "h ← (1−λ)h + λΔh", "Gated interpolation between h and Δh (prefix tuning, UniPELT gates).", "he-2022 §3.2", ("gated addition", "gated", "gating", "gate", "linear interpolation")),
        _t("concatenation", "concat(P, h)", "Learned vectors are concatenated with the sequence (soft prompts) before the frozen computation.", "ours", ("concatenation", "concat", "prepend")),
        _t("rescaling", "h ← l ⊙ h", "Element-wise multiplication by a learned vector.", "ours", ("rescaling", "element-wise scaling", "multiplicative", "scaled activations")),
        _t("weight-update", "W ← W + ΔW", "The update is applied to weights (selective or merged), not to a hidden representation at run time.", "ours", ("weight update", "in-place")),
        _t("multiplicative", "W ← R·W (or h ← R·h)", "A learned matrix multiplies the weight or representation (orthogonal and Householder methods).", "ours", ("multiplication", "matrix multiplication", "rotation")),
        _t("replacement", "h ← f(h)", "The representation is replaced by the output of another network (side networks).", "ours", ("replace",)),
        UNKNOWN,
    ),
)

# --- Lialin et al. 2023 taxonomy and efficiency ---------------------------------------

LIALIN_CLASS = Vocabulary(
    "lialin_class",
    "Method class",
    "Lialin et al. §3: the three main classes of PEFT methods (Table 1's Type letters).",
    (
        _t("additive", "Additive", "Augments the pre-trained model with extra parameters or layers and trains only the added ones.", "lialin-2023 §3.1", ("addition-based", "additive methods", "addition", "adds parameters"), letter="A"),
        _t("selective", "Selective", "Fine-tunes a subset of the existing parameters (by layer, by type, or individually).", "lialin-2023 §3.2", ("selection-based", "selective methods", "selection", "sparse fine-tuning"), letter="S"),
        _t("reparametrization", "Reparametrization-based", "Trains a low-dimensional (low-rank) re-parametrisation of the weight update.", "lialin-2023 §3.3", ("reparametrization-based", "reparameterization", "reparametrisation", "reparameterisation", "reparameterization-based", "low-rank"), letter="R"),
    ),
)

YES_NO = Vocabulary(
    "yes_no",
    "Yes / no",
    "Lialin et al. Tables 1-2: yes/no cells; `maybe` where the paper says it depends.",
    (
        _t("yes", "yes", "The paper says yes.", "lialin-2023 Table 1", ("true",)),
        _t("no", "no", "The paper says no.", "lialin-2023 Table 1", ("false",)),
        _t("maybe", "maybe", "The paper says it depends (its footnotes give the condition).", "lialin-2023 Table 1", ("depends",)),
        UNKNOWN,
    ),
)

INFERENCE_OVERHEAD = Vocabulary(
    "inference_overhead",
    "Inference overhead",
    "Lialin et al. Table 1: what the adapted model adds at inference time (the paper's wording as labels).",
    (
        _t("none", "No overhead", "Nothing is added at inference once the update is merged.", "lialin-2023 Table 1", ("no overhead", "no inference overhead", "zero overhead", "mergeable", "merged", "can be merged", "merged into the weights", "folded into the weights")),
        _t("extra-ffn", "Extra FFN", "Extra feed-forward computation at every insertion.", "lialin-2023 Table 1", ("extra ffn",)),
        _t("extra-input", "Extra input", "Extra sequence positions (prompt/prefix vectors) lengthen the input.", "lialin-2023 Table 1", ("extra input", "longer input")),
        _t("extra-ffn-and-input", "Extra FFN and input", "Both extra feed-forward computation and extra sequence positions.", "lialin-2023 Table 1", ("extra ffn and input",)),
        _t("extra-linear-layer", "Extra linear layer", "An extra linear layer per insertion.", "lialin-2023 Table 1", ("extra linear layer",)),
        _t("extra-gating", "Extra gating", "Extra element-wise gating/scaling operations.", "lialin-2023 Table 1", ("extra gating",)),
        _t("extra-decoder", "Extra decoder", "An extra (side) decoder network runs at inference.", "lialin-2023 Table 1", ("extra decoder",)),
        _t("extra-attention", "Extra attention", "An extra (small) attention module runs at every insertion (Tiny-Attention Adapter). Not a Table 1 wording: for methods the table does not cover.", "ours", ("extra attention",)),
        UNKNOWN,
    ),
)

# --- Training recipe: facts that tell members of one family apart ------------------------
# The typology above says where a module sits and what it computes; these say how it is
# initialised and trained, which is what separates PiSSA, LoftQ, LoRA+ or AdaLoRA from LoRA.

INITIALISATION = Vocabulary(
    "initialisation",
    "Initialisation",
    "How the trainable parameters are initialised.",
    (
        _t("zero-update", "zero update", "The update starts at zero (e.g. a random down-projection and a zero up-projection), so the adapted model starts as the base model.", "ours", ("zero init", "lora init", "identity at init")),
        _t("random", "random", "Trainable parameters are drawn at random and the update is not zero at the start.", "ours", ("random init",)),
        _t("weight-svd", "SVD of the weight", "The factors are set from the principal singular vectors and values of the pre-trained weight, and the residual stays frozen (PiSSA).", "ours", ("principal components", "svd init", "pissa")),
        _t("weight-orthonormal", "orthonormal basis of the weight", "The factors are set from a QR (orthonormal) decomposition of the pre-trained weight (OLoRA).", "ours", ("qr init", "orthonormal init")),
        _t("data-driven", "data-driven", "The factors are set from statistics of activations or gradients on task data (EVA, CorDA, LoRA-GA).", "ours", ("activation-aware", "gradient-based init", "data-aware")),
        _t("quantisation-aware", "quantisation-aware", "The factors are set so that quantised base plus update approximates the full-precision weight (LoftQ).", "ours", ("quantization-aware", "loftq init")),
        UNKNOWN,
    ),
)

BASE_WEIGHTS = Vocabulary(
    "base_weights",
    "Base weights",
    "The precision in which the frozen pre-trained weights are kept during training.",
    (
        _t("full-precision", "full precision", "The frozen weights keep their trained precision (16 or 32 bit).", "ours", ("fp16", "bf16", "unquantised")),
        _t("quantised", "quantised", "The frozen weights are quantised (e.g. to 4 bit) and dequantised on the fly (QLoRA).", "ours", ("quantized", "4-bit", "nf4")),
        UNKNOWN,
    ),
)

OPTIMISATION = Vocabulary(
    "optimisation",
    "Optimisation recipe",
    "What the method changes in the optimiser or learning rates, if anything.",
    (
        _t("standard", "standard", "One optimiser and learning rate for all trainable parameters.", "ours", ("default optimiser",)),
        _t("per-factor-learning-rates", "per-factor learning rates", "Different learning rates for the factors of one update (LoRA+: the up-projection learns faster).", "ours", ("lora+", "learning rate ratio")),
        _t("scaling-rule", "rank-dependent scaling", "The update's scale factor depends on the rank in a prescribed way (rsLoRA: α/√r).", "ours", ("rank-stabilised scaling",)),
        UNKNOWN,
    ),
)

RANK_ALLOCATION = Vocabulary(
    "rank_allocation",
    "Rank allocation",
    "How the rank (capacity) of the update is distributed over the adapted matrices.",
    (
        _t("fixed", "fixed", "Every adapted matrix gets the same, preset rank.", "ours", ("uniform", "constant rank")),
        _t("adaptive", "adaptive", "Rank is reallocated across matrices during training by an importance score (AdaLoRA).", "ours", ("budget allocation", "rank pruning", "dynamic rank")),
        UNKNOWN,
    ),
)

REGULARISER = Vocabulary(
    "regulariser",
    "Regulariser",
    "An extra training loss or constraint the method adds.",
    (
        _t("none", "none", "No extra loss term.", "ours", ("no regulariser",)),
        _t("orthogonality", "orthogonality penalty", "A penalty keeps the singular-vector factors orthogonal (AdaLoRA).", "ours", ("orthogonal regularisation",)),
        UNKNOWN,
    ),
)

# --- Positions in the reference Transformer -------------------------------------------

_ATTN_KINDS = {
    "attn": ("attention", "any attention sub-layer (self- and cross-attention)", ("mha", "multi-head attention", "attention layer")),
    "self_attn": ("self-attention", "self-attention sub-layers only", ("self attention", "self-attn", "encoder self-attention")),
    "cross_attn": ("cross-attention", "cross-attention (encoder-decoder attention) sub-layers only", ("cross attention", "encoder-decoder attention", "cross-attn")),
}
_ATTN_PARTS = {
    "": ("output of the attention sub-layer", ()),
    ".q": ("query projection W_q", ("query", "w_q", "wq", "q_proj")),
    ".k": ("key projection W_k", ("key", "w_k", "wk", "k_proj")),
    ".v": ("value projection W_v", ("value", "w_v", "wv", "v_proj")),
    ".o": ("output projection W_o", ("attention output projection", "w_o", "wo", "o_proj")),
}


def _positions() -> tuple[Term, ...]:
    terms = [
        _t("embedding", "embedding", "The input embedding layer (soft prompts are prepended here).", "ours", ("embeddings", "input layer", "input embeddings", "embedding layer"), family="embedding", kind="layer"),
    ]
    for kind, (label, scope, syn) in _ATTN_KINDS.items():
        for part, (what, part_syn) in _ATTN_PARTS.items():
            value = f"{kind}{part}"
            synonyms = tuple(f"{s}{part}" for s in syn) if part else syn
            terms.append(
                _t(
                    value,
                    f"{label}{' ' + part[1:].upper() if part else ''}",
                    f"{what[0].upper() + what[1:]} in {scope}.",
                    "he-2022 §2.1" if kind == "attn" else "ours",
                    synonyms + (tuple(part_syn) if kind == "attn" else ()),
                    family="attention",
                    attention=kind,
                    part=part[1:] or "output",
                    kind="sublayer" if not part else "projection",
                )
            )
    terms += [
        _t("ffn.in", "FFN in", "The first FFN projection (W_1 / up-projection; the gate and up projections of gated FFNs).", "he-2022 §2.1", ("ffn input", "w_1", "fc1", "up_proj", "wi", "intermediate"), family="ffn", part="in", kind="projection"),
        _t("ffn.hidden", "FFN hidden", "The FFN's intermediate activation (after the nonlinearity, before W_2).", "ours", ("ffn activation", "ffn intermediate activation"), family="ffn", part="hidden", kind="activation"),
        _t("ffn.out", "FFN out", "The second FFN projection (W_2 / down-projection).", "he-2022 §2.1", ("ffn output projection", "w_2", "fc2", "down_proj", "wo"), family="ffn", part="out", kind="projection"),
        _t("ffn", "FFN", "The output of the feed-forward sub-layer.", "he-2022 §2.1", ("feed-forward", "feedforward", "feed forward", "mlp", "ffn layer", "ffn sub-layer", "feed-forward layer", "feed-forward network", "feed-forward sub-layer", "mlp layer"), family="ffn", part="output", kind="sublayer"),
        _t("block", "block", "The output of a whole Transformer layer.", "ours", ("layer", "transformer block", "layer output"), family="block", kind="layer"),
        _t("layer_norm", "layer norm", "The layer-normalisation parameters of every sub-layer.", "ours", ("layernorm", "ln", "layer normalization"), family="layer_norm", kind="parameters"),
        _t("params.bias", "all bias terms", "Every bias vector in the model (a whole-model parameter group).", "ours", ("bias", "biases", "bias terms"), family="params", kind="parameters"),
        _t("params.all", "all parameters", "Every parameter of the model (a whole-model parameter group).", "ours", ("all weights", "whole model", "entire model"), family="params", kind="parameters"),
        _t("params.cross_attn", "cross-attention parameters", "All parameters of the cross-attention sub-layers.", "ours", ("cross-attention weights",), family="attention", attention="cross_attn", kind="parameters"),
        _t("params.ffn", "FFN parameters", "All parameters of the FFN sub-layers.", "ours", ("ffn weights", "feed-forward weights"), family="ffn", kind="parameters"),
        # Position groups: resolved as the union of their members' projections, each fused module once and whole
        # (peft's target_modules="all-linear" without the LM head; Dettmers et al. 2023 (QLoRA) §4 adapt every linear layer).
        _t("all-linear", "all linear layers", "Every linear projection of the attention and FFN sub-layers, each module once and whole (a fused projection such as GPT-2's c_attn is one module); not the embedding or the LM / task head. As HF peft's target_modules=\"all-linear\".", "ours",
           ("all linear", "all_linear", "all-linear layers", "every linear layer"), family="group", kind="group", members=("attn.q", "attn.k", "attn.v", "attn.o", "ffn.in", "ffn.out")),
        _t("attn.linear", "attention linear layers", "Every linear projection of the attention sub-layers (q, k, v, o of self- and cross-attention), each module once and whole.", "ours",
           ("attention projections", "all attention projections"), family="group", kind="group", members=("attn.q", "attn.k", "attn.v", "attn.o")),
        _t("ffn.linear", "FFN linear layers", "Every linear projection of the FFN sub-layers (ffn.in and ffn.out), each module once and whole.", "ours",
           ("ffn projections", "mlp projections", "all ffn projections"), family="group", kind="group", members=("ffn.in", "ffn.out")),
        _t("side_network", "side network", "A separate network beside the backbone, reading its hidden states.", "ours", ("ladder", "side"), family="side_network", kind="network"),
        _t("unknown", "unknown", UNKNOWN.definition, "ours", (), family="unknown", kind="unknown"),
    ]
    return tuple(terms)


POSITION = Vocabulary(
    "position",
    "Position",
    "Where a component acts in the PEFT-Ref reference Transformer (Sabry & Belz 2023 §2.1). `attn.*` means every attention sub-layer the model has; `self_attn.*` and `cross_attn.*` restrict to one kind.",
    _positions(),
)

RELATION = Vocabulary(
    "relation",
    "Relation",
    "Typed links between methods.",
    (
        _t("variant-of", "variant of", "This method changes one design element of the target method.", "ours", ("variant",)),
        _t("combines", "combines", "This hybrid method is assembled from the target method (one of its components).", "ours", ("uses", "composed of")),
        _t("derived-from", "derived from", "This method was motivated by or built on the target method.", "ours", ("inspired by", "builds on", "based on")),
        _t("generalizes", "generalizes", "The target method is a special case of this method.", "ours", ("generalises", "special case")),
        _t("compared-with", "compared with", "The method's paper compares against the target method.", "ours", ("baseline",)),
    ),
)

METHOD_KIND = Vocabulary(
    "method_kind",
    "Record kind",
    "Whether a record is a PEFT method or a reference baseline.",
    (
        _t("method", "PEFT method", "A parameter-efficient fine-tuning method.", "ours", ("peft method", "technique")),
        _t("baseline", "Baseline", "A reference point that is not a PEFT method (full fine-tuning).", "ours", ("reference",)),
    ),
)

VOCABULARIES: dict[str, Vocabulary] = {
    v.name: v
    for v in (
        INTRA_CONNECTIVITY,
        INTER_CONNECTIVITY,
        PARAMETER_ADAPTATION,
        PARAMETER_SHARING,
        INPUT_TYPE,
        INSERTION_FORM,
        NUMBER_OF_INSERTIONS,
        INTEGRATION_FORM,
        WORKSPACE,
        FUNCTIONAL_FORM,
        MODIFIED_REPRESENTATION,
        COMPOSITION,
        LIALIN_CLASS,
        YES_NO,
        INFERENCE_OVERHEAD,
        POSITION,
        RELATION,
        METHOD_KIND,
        INITIALISATION,
        BASE_WEIGHTS,
        OPTIMISATION,
        RANK_ALLOCATION,
        REGULARISER,
    )
}


def make_enum(vocabulary: Vocabulary):
    """A ``str`` Enum whose members are the vocabulary's values."""
    from enum import Enum

    name = "".join(part.capitalize() for part in vocabulary.name.split("_"))
    return Enum(name, {t.value.replace("-", "_").replace(".", "__"): t.value for t in vocabulary.terms}, type=str)  # type: ignore[return-value]
