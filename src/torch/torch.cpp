// torch.cpp - the only C++ in selfadapt: libtorch behind the C API of torch.h.
//
// Rules kept here: every extern "C" body runs inside SA_TRY / SA_CATCH, so no
// exception reaches C; handles are plain structs owning torch objects; the
// shim knows tensors and modules, never adaptation methods.
#include "torch.h"

#include <torch/script.h>
#include <torch/torch.h>

#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

struct sa_tensor {
    torch::Tensor t;
};

struct sa_state {
    std::vector<torch::Tensor> params;
    std::vector<torch::Tensor> buffers;
};

struct sa_model {
    torch::jit::Module mod;
    int device = SA_DEVICE_CPU;
    sa_norm_mode mode = SA_NORM_SOURCE;
    double alpha = 0.0;
    std::vector<torch::jit::Module> batchnorms; // modules with batch statistics
    int n_norm = 0;                             // BatchNorm + GroupNorm + LayerNorm
    // Running statistics of `batchnorms`: (module, attribute name) pairs.
    std::vector<std::pair<torch::jit::Module, std::string>> bn_stats;
    std::vector<torch::Tensor> trainable;
};

struct sa_optim {
    std::unique_ptr<torch::optim::Optimizer> opt;
};

namespace {

// CPU tensor memory that stays mapped from one batch to the next.
//
// glibc's malloc serves every request above its mmap threshold (32 MiB at
// most) with a fresh mapping and unmaps it again on free. A training-mode
// pass of a large model allocates activations and gradients of up to a
// hundred MiB each, so every batch faults all of them in again and the
// kernel zeroes them page by page: on ResNet-50 at batch 32, about 1.5
// million page faults and 2-3 s of system time per forward + backward.
// This allocator keeps freed blocks of 1 MiB and more, by size, and hands
// them out again; smaller blocks go straight back to malloc. Idle blocks are
// released whenever keeping them would lift the footprint (blocks in use
// plus idle ones) above the most ever in use at once, so a change of shapes
// cannot pile up stale sizes.
//
// Each block carries a header (owner and size) in the 64 bytes before its
// data, which keeps the data 64-byte aligned and lets the deleter work from
// the data pointer alone, as libtorch's raw allocation interface requires.
class ReuseAllocator final : public c10::Allocator {
public:
    // libtorch before 2.3 declares allocate const and has no copy_data;
    // later releases make allocate non-const and copy_data pure virtual.
    // Both forms are defined (without `override`), so the class is complete
    // against either.
    c10::DataPtr allocate(size_t n) const
    {
        return make(n);
    }
    c10::DataPtr allocate(size_t n)
    {
        return make(n);
    }
    void copy_data(void *dest, const void *src, size_t count) const
    {
        if (count > 0)
            std::memcpy(dest, src, count);
    }

    c10::DeleterFnPtr raw_deleter() const override
    {
        return &release;
    }

private:
    c10::DataPtr make(size_t n) const
    {
        size_t size = n + kHeader;
        if (size >= kMinReused)
            size = (size + kGranule - 1) / kGranule * kGranule;
        char *base = size >= kMinReused ? take(size) : nullptr;
        if (!base)
            base = fresh(size);
        auto *h = reinterpret_cast<Header *>(base);
        h->owner = this;
        h->size = size;
        char *data = base + kHeader;
        return {data, data, &release, c10::Device(c10::DeviceType::CPU)};
    }

    struct Header {
        const ReuseAllocator *owner;
        size_t size;
    };
    static constexpr size_t kHeader = 64; // c10's CPU alignment
    static constexpr size_t kMinReused = size_t(1) << 20;
    static constexpr size_t kGranule = size_t(1) << 16;

    static void release(void *data)
    {
        if (!data)
            return;
        char *base = static_cast<char *>(data) - kHeader;
        const Header *h = reinterpret_cast<const Header *>(base);
        if (h->size < kMinReused)
            c10::free_cpu(base);
        else
            h->owner->keep(base, h->size);
    }

    // An idle block of exactly `size` bytes, now in use; nullptr if none.
    char *take(size_t size) const
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = idle_.find(size);
        if (it == idle_.end())
            return nullptr;
        char *base = it->second.back();
        it->second.pop_back();
        if (it->second.empty())
            idle_.erase(it);
        idle_bytes_ -= size;
        note_in_use(size);
        return base;
    }

    // A block from malloc. Idle blocks go first where the new one would lift
    // the footprint above its bound, and all of them if malloc fails.
    char *fresh(size_t size) const
    {
        bool reused = size >= kMinReused;
        if (reused) {
            std::lock_guard<std::mutex> lock(mu_);
            size_t after = in_use_bytes_ + size + idle_bytes_;
            size_t bound = std::max(peak_bytes_, in_use_bytes_ + size);
            if (after > bound)
                drop_idle(after - bound);
        }
        void *p = nullptr;
        try {
            p = c10::alloc_cpu(size);
        } catch (const c10::Error &) {
            {
                std::lock_guard<std::mutex> lock(mu_);
                if (idle_bytes_ == 0)
                    throw;
                drop_idle(idle_bytes_);
            }
            p = c10::alloc_cpu(size);
        }
        if (reused) {
            std::lock_guard<std::mutex> lock(mu_);
            note_in_use(size);
        }
        return static_cast<char *>(p);
    }

    void keep(char *base, size_t size) const
    {
        std::lock_guard<std::mutex> lock(mu_);
        in_use_bytes_ -= size;
        try {
            idle_[size].push_back(base);
        } catch (...) { // no memory to remember it: free it
            c10::free_cpu(base);
            return;
        }
        idle_bytes_ += size;
    }

    void note_in_use(size_t size) const
    {
        in_use_bytes_ += size;
        peak_bytes_ = std::max(peak_bytes_, in_use_bytes_);
    }

    // Free idle blocks, largest first, until `bytes` are gone. Caller holds mu_.
    void drop_idle(size_t bytes) const
    {
        while (bytes > 0 && !idle_.empty()) {
            auto largest = idle_.begin();
            for (auto it = idle_.begin(); it != idle_.end(); ++it)
                if (it->first > largest->first)
                    largest = it;
            size_t size = largest->first;
            c10::free_cpu(largest->second.back());
            largest->second.pop_back();
            if (largest->second.empty())
                idle_.erase(largest);
            idle_bytes_ -= size;
            bytes = bytes > size ? bytes - size : 0;
        }
    }

    mutable std::mutex mu_;
    mutable std::unordered_map<size_t, std::vector<char *>> idle_; // size -> idle blocks
    mutable size_t idle_bytes_ = 0;
    mutable size_t in_use_bytes_ = 0; // blocks of kMinReused and more
    mutable size_t peak_bytes_ = 0;
};

// Make ReuseAllocator libtorch's CPU allocator, once per process. Tensors
// allocated before keep their own deleters. The allocator is never
// destroyed: libtorch keeps a pointer to it, and tensors may outlive every
// model.
void use_reuse_allocator()
{
    static std::once_flag once;
    std::call_once(once, [] { c10::SetCPUAllocator(new ReuseAllocator()); });
}

// First line of an exception message, without libtorch's C++ backtrace.
void set_torch_error(sa_error *err, const char *what)
{
    std::string msg = what ? what : "unknown error";
    size_t nl = msg.find('\n');
    if (nl != std::string::npos)
        msg.resize(nl);
    sa_error_set(err, SA_ETORCH, "torch", "%s", msg.c_str());
}

torch::Device to_device(int device)
{
    if (device == SA_DEVICE_CPU)
        return torch::Device(torch::kCPU);
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(device));
}

int wrap(sa_tensor **out, torch::Tensor t)
{
    *out = new sa_tensor{std::move(t)};
    return 0;
}

bool type_name_has(const torch::jit::Module &m, const char *what)
{
    auto name = m.type()->name();
    return name && name->qualifiedName().find(what) != std::string::npos;
}

bool is_batchnorm(const torch::jit::Module &m)
{
    return type_name_has(m, "BatchNorm") || type_name_has(m, "SyncBatchNorm");
}

bool is_norm(const torch::jit::Module &m)
{
    return is_batchnorm(m) || type_name_has(m, "GroupNorm") || type_name_has(m, "LayerNorm");
}

// Collect normalisation layers and BatchNorm running statistics.
void index_model(sa_model *m)
{
    m->batchnorms.clear();
    m->bn_stats.clear();
    m->n_norm = 0;
    for (const auto &sub : m->mod.modules()) {
        if (is_norm(sub))
            m->n_norm++;
        if (!is_batchnorm(sub))
            continue;
        m->batchnorms.push_back(sub);
        for (const char *b : {"running_mean", "running_var", "num_batches_tracked"})
            if (sub.hasattr(b) && sub.attr(b).isTensor())
                m->bn_stats.emplace_back(sub, b);
    }
}

// Momentum of a BatchNorm module: a constant of its scripted class (or an
// attribute); < 0 means None (cumulative moving average).
double bn_momentum(const torch::jit::Module &bn)
{
    c10::IValue v;
    if (bn.type()->hasConstant("momentum"))
        v = bn.type()->getConstant("momentum");
    else if (bn.hasattr("momentum"))
        v = bn.attr("momentum");
    if (v.isDouble())
        return v.toDouble();
    if (v.isInt())
        return static_cast<double>(v.toInt());
    if (v.isNone())
        return -1.0;
    return 0.1;
}

// While alive, BatchNorm layers in training mode update throw-away copies of
// their running statistics, so a forward with test-batch statistics leaves
// the stored ones untouched. (Copying the old values back after the forward
// would modify tensors that autograd saved for the backward pass.)
struct StatsShield {
    sa_model *m;
    std::vector<torch::Tensor> originals;
    explicit StatsShield(sa_model *model) : m(model)
    {
        torch::NoGradGuard ng;
        originals.reserve(m->bn_stats.size());
        for (auto &s : m->bn_stats) {
            torch::Tensor t = s.first.attr(s.second).toTensor();
            originals.push_back(t);
            s.first.setattr(s.second, t.clone());
        }
    }
    ~StatsShield()
    {
        for (size_t i = 0; i < originals.size(); i++)
            m->bn_stats[i].first.setattr(m->bn_stats[i].second, originals[i]);
    }
};

void set_bn_training(sa_model *m, bool on)
{
    m->mod.eval();
    if (on)
        for (auto &bn : m->batchnorms)
            bn.train(true);
}

void apply_norm_mode(sa_model *m)
{
    set_bn_training(m, m->mode == SA_NORM_BATCH);
}

} // namespace

#define SA_TRY try {
#define SA_CATCH(err)                                                                   \
    }                                                                                   \
    catch (const c10::Error &e)                                                         \
    {                                                                                   \
        set_torch_error(err, e.what_without_backtrace());                               \
        return SA_ETORCH;                                                               \
    }                                                                                   \
    catch (const std::bad_alloc &)                                                      \
    {                                                                                   \
        return sa_error_set(err, SA_ENOMEM, "torch", "out of memory");                  \
    }                                                                                   \
    catch (const std::exception &e)                                                     \
    {                                                                                   \
        set_torch_error(err, e.what());                                                 \
        return SA_ETORCH;                                                               \
    }                                                                                   \
    catch (...)                                                                         \
    {                                                                                   \
        return sa_error_set(err, SA_ETORCH, "torch", "unknown C++ exception");          \
    }

// For functions with no error channel: swallow everything.
#define SA_TRY_VOID try {
#define SA_CATCH_VOID(fallback) \
    }                           \
    catch (...)                 \
    {                           \
        return fallback;        \
    }

extern "C" {

/* ---- library ------------------------------------------------------------ */

const char *sa_torch_version(void)
{
#ifdef TORCH_VERSION
    return TORCH_VERSION;
#else
    return "unknown";
#endif
}

int sa_torch_cuda_device_count(void)
{
    SA_TRY_VOID
    return static_cast<int>(torch::cuda::device_count());
    SA_CATCH_VOID(0)
}

void sa_torch_set_threads(int n)
{
    try {
        if (n > 0)
            at::set_num_threads(n);
    } catch (...) {
    }
}

int sa_torch_reuse_memory(sa_error *err)
{
    try {
        use_reuse_allocator();
    } catch (const std::exception &ex) {
        return sa_error_set(err, SA_ENOMEM, "torch", "cannot install the reusing CPU allocator: %s",
                            ex.what());
    } catch (...) {
        return sa_error_set(err, SA_ENOMEM, "torch", "cannot install the reusing CPU allocator");
    }
    return 0;
}

void sa_torch_manual_seed(uint64_t seed)
{
    try {
        torch::manual_seed(seed);
    } catch (...) {
    }
}

int sa_torch_parse_device(int *out, const char *name, sa_error *err)
{
    if (!name || strcmp(name, "cpu") == 0) {
        *out = SA_DEVICE_CPU;
        return 0;
    }
    if (strcmp(name, "cuda") == 0) {
        *out = 0;
    } else if (strncmp(name, "cuda:", 5) == 0) {
        char *end = nullptr;
        long v = strtol(name + 5, &end, 10);
        if (!*(name + 5) || *end || v < 0 || v > 64)
            return sa_error_set(err, SA_EINVAL, "torch",
                                "bad device '%s' (expected cpu, cuda or cuda:N)", name);
        *out = static_cast<int>(v);
    } else {
        return sa_error_set(err, SA_EINVAL, "torch", "bad device '%s' (expected cpu, cuda or cuda:N)",
                            name);
    }
    int count = sa_torch_cuda_device_count();
    if (*out >= count)
        return sa_error_set(err, SA_EINVAL, "torch",
                            "device '%s' requested but %d CUDA device(s) are visible to this libtorch",
                            name, count);
    return 0;
}

/* ---- tensors ------------------------------------------------------------ */

static int tensor_from(sa_tensor **out, const void *data, const int64_t *shape, int ndim,
                       int device, torch::ScalarType type, sa_error *err)
{
    SA_TRY
    if (ndim < 0 || ndim > 8)
        return sa_error_set(err, SA_EINVAL, "torch", "tensor rank %d outside 0..8", ndim);
    std::vector<int64_t> sizes(shape, shape + ndim);
    auto host = torch::from_blob(const_cast<void *>(data), sizes, torch::TensorOptions().dtype(type));
    torch::Tensor t = device == SA_DEVICE_CPU ? host.clone() : host.to(to_device(device));
    return wrap(out, std::move(t));
    SA_CATCH(err)
}

int sa_tensor_from_f32(sa_tensor **out, const float *data, const int64_t *shape, int ndim,
                       int device, sa_error *err)
{
    return tensor_from(out, data, shape, ndim, device, torch::kFloat32, err);
}

int sa_tensor_from_i64(sa_tensor **out, const int64_t *data, const int64_t *shape, int ndim,
                       int device, sa_error *err)
{
    return tensor_from(out, data, shape, ndim, device, torch::kInt64, err);
}

void sa_tensor_free(sa_tensor *t)
{
    delete t;
}

int sa_tensor_ndim(const sa_tensor *t)
{
    return static_cast<int>(t->t.dim());
}

int64_t sa_tensor_dim_size(const sa_tensor *t, int dim)
{
    int64_t nd = t->t.dim();
    int64_t d = dim < 0 ? dim + nd : dim;
    if (d < 0 || d >= nd)
        return -1;
    return t->t.size(d);
}

int64_t sa_tensor_numel(const sa_tensor *t)
{
    return t->t.numel();
}

static int tensor_to(const sa_tensor *t, void *dst, size_t n, torch::ScalarType type, sa_error *err)
{
    SA_TRY
    auto c = t->t.detach().to(torch::kCPU, type).contiguous();
    if (static_cast<size_t>(c.numel()) > n)
        return sa_error_set(err, SA_EINVAL, "torch", "tensor has %lld elements, buffer holds %zu",
                            static_cast<long long>(c.numel()), n);
    if (c.numel() > 0) /* an empty tensor has no data pointer */
        memcpy(dst, c.data_ptr(), c.numel() * c.element_size());
    return 0;
    SA_CATCH(err)
}

int sa_tensor_to_f32(const sa_tensor *t, float *dst, size_t n, sa_error *err)
{
    return tensor_to(t, dst, n, torch::kFloat32, err);
}

int sa_tensor_to_i64(const sa_tensor *t, int64_t *dst, size_t n, sa_error *err)
{
    return tensor_to(t, dst, n, torch::kInt64, err);
}

int sa_tensor_item(const sa_tensor *t, double *out, sa_error *err)
{
    SA_TRY
    *out = t->t.item<double>();
    return 0;
    SA_CATCH(err)
}

#define SA_UNARY(fn, expr)                                                  \
    int fn(sa_tensor **out, const sa_tensor *a, sa_error *err)              \
    {                                                                       \
        SA_TRY                                                              \
        const torch::Tensor &x = a->t;                                      \
        return wrap(out, (expr));                                           \
        SA_CATCH(err)                                                       \
    }
#define SA_BINARY(fn, expr)                                                              \
    int fn(sa_tensor **out, const sa_tensor *a, const sa_tensor *b, sa_error *err)       \
    {                                                                                    \
        SA_TRY                                                                           \
        const torch::Tensor &x = a->t;                                                   \
        const torch::Tensor &y = b->t;                                                   \
        return wrap(out, (expr));                                                        \
        SA_CATCH(err)                                                                    \
    }
#define SA_WITH_INT(fn, expr)                                                    \
    int fn(sa_tensor **out, const sa_tensor *a, int dim, sa_error *err)          \
    {                                                                            \
        SA_TRY                                                                   \
        const torch::Tensor &x = a->t;                                           \
        return wrap(out, (expr));                                                \
        SA_CATCH(err)                                                            \
    }
#define SA_WITH_SCALAR(fn, expr)                                                 \
    int fn(sa_tensor **out, const sa_tensor *a, double s, sa_error *err)         \
    {                                                                            \
        SA_TRY                                                                   \
        const torch::Tensor &x = a->t;                                           \
        return wrap(out, (expr));                                                \
        SA_CATCH(err)                                                            \
    }

SA_WITH_INT(sa_tensor_softmax, torch::softmax(x, dim))
SA_WITH_INT(sa_tensor_log_softmax, torch::log_softmax(x, dim))
SA_WITH_INT(sa_tensor_argmax, torch::argmax(x, dim))
SA_WITH_INT(sa_tensor_unsqueeze, x.unsqueeze(dim))
SA_UNARY(sa_tensor_sum, x.sum())
SA_UNARY(sa_tensor_mean, x.mean())
SA_UNARY(sa_tensor_neg, -x)
SA_UNARY(sa_tensor_exp, x.exp())
SA_UNARY(sa_tensor_log, x.log())
SA_UNARY(sa_tensor_detach, x.detach())
SA_BINARY(sa_tensor_add, x + y)
SA_BINARY(sa_tensor_sub, x - y)
SA_BINARY(sa_tensor_mul, x * y)
SA_BINARY(sa_tensor_div, x / y)
SA_WITH_SCALAR(sa_tensor_add_scalar, x + s)
SA_WITH_SCALAR(sa_tensor_mul_scalar, x * s)
SA_WITH_SCALAR(sa_tensor_pow_scalar, x.pow(s))

int sa_tensor_gather(sa_tensor **out, const sa_tensor *a, int dim, const sa_tensor *index,
                     sa_error *err)
{
    SA_TRY
    return wrap(out, torch::gather(a->t, dim, index->t));
    SA_CATCH(err)
}

int sa_tensor_index_select(sa_tensor **out, const sa_tensor *a, int dim, const sa_tensor *index,
                           sa_error *err)
{
    SA_TRY
    return wrap(out, torch::index_select(a->t, dim, index->t));
    SA_CATCH(err)
}

int sa_tensor_sum_dim(sa_tensor **out, const sa_tensor *a, int dim, int keepdim, sa_error *err)
{
    SA_TRY
    return wrap(out, a->t.sum(dim, keepdim != 0));
    SA_CATCH(err)
}

int sa_tensor_mean_dim(sa_tensor **out, const sa_tensor *a, int dim, int keepdim, sa_error *err)
{
    SA_TRY
    return wrap(out, a->t.mean(dim, keepdim != 0));
    SA_CATCH(err)
}

int sa_tensor_backward(const sa_tensor *loss, sa_error *err)
{
    SA_TRY
    if (!loss->t.requires_grad())
        return sa_error_set(err, SA_EINVAL, "torch",
                            "loss does not depend on any trainable parameter (nothing to backpropagate)");
    loss->t.backward();
    return 0;
    SA_CATCH(err)
}

/* ---- models ------------------------------------------------------------- */

int sa_model_load(sa_model **out, const char *path, int device, sa_error *err)
{
    SA_TRY
    FILE *f = fopen(path, "rb");
    if (!f)
        return sa_error_set(err, SA_EIO, "torch", "cannot open model file %s: %s", path,
                            strerror(errno));
    fclose(f);
    auto m = std::make_unique<sa_model>();
    try {
        m->mod = torch::jit::load(path, to_device(device));
    } catch (const c10::Error &e) {
        std::string w = e.what_without_backtrace();
        w = w.substr(0, w.find('\n'));
        return sa_error_set(err, SA_EFORMAT, "torch", "%s is not a loadable TorchScript model: %s",
                            path, w.c_str());
    }
    m->device = device;
    for (auto p : m->mod.parameters())
        p.requires_grad_(false);
    index_model(m.get());
    apply_norm_mode(m.get());
    *out = m.release();
    return 0;
    SA_CATCH(err)
}

void sa_model_free(sa_model *m)
{
    delete m;
}

int sa_model_device(const sa_model *m)
{
    return m->device;
}

int sa_model_clone(sa_model **out, const sa_model *m, sa_error *err)
{
    SA_TRY
    auto c = std::make_unique<sa_model>();
    {
        // Without gradient recording the copied parameters are leaves.
        torch::NoGradGuard ng;
        c->mod = m->mod.deepcopy();
    }
    c->device = m->device;
    c->mode = m->mode;
    c->alpha = m->alpha;
    index_model(c.get());
    apply_norm_mode(c.get());
    // Same trainable set: match by position in the parameter list.
    std::vector<torch::Tensor> src_params, dst_params;
    for (auto p : m->mod.parameters())
        src_params.push_back(p);
    for (auto p : c->mod.parameters())
        dst_params.push_back(p);
    for (size_t i = 0; i < src_params.size() && i < dst_params.size(); i++) {
        bool on = src_params[i].requires_grad();
        dst_params[i].requires_grad_(on);
        if (on)
            c->trainable.push_back(dst_params[i]);
    }
    *out = c.release();
    return 0;
    SA_CATCH(err)
}

int sa_model_set_norm_mode(sa_model *m, sa_norm_mode mode, double alpha, sa_error *err)
{
    SA_TRY
    if (mode < SA_NORM_SOURCE || mode > SA_NORM_EMA)
        return sa_error_set(err, SA_EINVAL, "torch", "unknown normalisation mode %d", (int)mode);
    if (mode != SA_NORM_SOURCE && m->batchnorms.empty())
        return sa_error_set(err, SA_EINVAL, "torch",
                            "test-batch statistics need BatchNorm layers, and this model has none");
    if (mode == SA_NORM_MIX && !(alpha >= 0.0 && alpha <= 1.0))
        return sa_error_set(err, SA_EINVAL, "torch", "BatchNorm mixing weight %g outside [0, 1]",
                            alpha);
    m->mode = mode;
    m->alpha = alpha;
    apply_norm_mode(m);
    return 0;
    SA_CATCH(err)
}

int sa_model_norm_layer_count(const sa_model *m)
{
    return m->n_norm;
}

int sa_model_select_trainable(sa_model *m, sa_train_set set, const char *pattern,
                              sa_train_info *info, sa_error *err)
{
    SA_TRY
    std::vector<torch::Tensor> chosen;
    int64_t total = 0;
    for (auto p : m->mod.parameters()) {
        p.requires_grad_(false);
        total += p.numel();
    }
    switch (set) {
    case SA_TRAIN_NONE:
        break;
    case SA_TRAIN_ALL:
        for (auto p : m->mod.parameters())
            chosen.push_back(p);
        break;
    case SA_TRAIN_NORM_AFFINE:
        for (const auto &sub : m->mod.modules()) {
            if (!is_norm(sub))
                continue;
            for (const auto &p : sub.named_parameters(false))
                if (p.name == "weight" || p.name == "bias")
                    chosen.push_back(p.value);
        }
        if (chosen.empty())
            return sa_error_set(err, SA_EINVAL, "torch",
                                "parameter set 'bn_affine' selects nothing: the model has no "
                                "BatchNorm/GroupNorm/LayerNorm layers with affine parameters");
        break;
    case SA_TRAIN_LAST_LAYER: {
        std::vector<torch::Tensor> last;
        for (const auto &sub : m->mod.modules()) {
            std::vector<torch::Tensor> own;
            for (const auto &p : sub.named_parameters(false))
                own.push_back(p.value);
            if (!own.empty())
                last = own;
        }
        chosen = last;
        if (chosen.empty())
            return sa_error_set(err, SA_EINVAL, "torch", "parameter set 'last_layer': model has no parameters");
        break;
    }
    case SA_TRAIN_PATTERN:
        if (!pattern || !*pattern)
            return sa_error_set(err, SA_EINVAL, "torch", "parameter pattern is empty");
        for (const auto &p : m->mod.named_parameters(true))
            if (p.name.find(pattern) != std::string::npos)
                chosen.push_back(p.value);
        if (chosen.empty())
            return sa_error_set(err, SA_EINVAL, "torch", "no parameter name contains '%s'", pattern);
        break;
    default:
        return sa_error_set(err, SA_EINVAL, "torch", "unknown parameter set %d", (int)set);
    }
    int64_t n = 0;
    for (auto &p : chosen) {
        p.requires_grad_(true);
        n += p.numel();
    }
    m->trainable = chosen;
    if (info) {
        info->n_norm_layers = m->n_norm;
        info->n_tensors = static_cast<int>(chosen.size());
        info->n_elements = n;
        info->n_total = total;
    }
    return 0;
    SA_CATCH(err)
}

static torch::jit::IValue run_forward(sa_model *m, const torch::Tensor &x, bool grad)
{
    std::unique_ptr<torch::NoGradGuard> ng;
    if (!grad)
        ng = std::make_unique<torch::NoGradGuard>();
    return m->mod.forward({x});
}

// SA_NORM_MIX: a training-mode pass (no gradients) updates throw-away copies
// of the running statistics; the batch statistics are recovered from the
// update rule and mixed with the stored ones; the evaluation-mode pass then
// normalises with the mixture.
static torch::jit::IValue forward_mix(sa_model *m, const torch::Tensor &x, bool grad)
{
    StatsShield shield(m);
    {
        torch::NoGradGuard ng;
        std::vector<torch::Tensor> before;
        for (auto &s : m->bn_stats)
            before.push_back(s.first.attr(s.second).toTensor().clone());
        set_bn_training(m, true);
        run_forward(m, x, false);
        set_bn_training(m, false);
        for (size_t i = 0; i < m->bn_stats.size(); i++) {
            const std::string &name = m->bn_stats[i].second;
            if (name == "num_batches_tracked")
                continue;
            auto &bn = m->bn_stats[i].first;
            torch::Tensor after = bn.attr(name).toTensor();
            double mom = bn_momentum(bn);
            if (mom < 0) { // cumulative average: factor 1 / batches tracked
                double n = bn.hasattr("num_batches_tracked")
                               ? bn.attr("num_batches_tracked").toTensor().item<double>()
                               : 1.0;
                mom = 1.0 / (n > 0 ? n : 1.0);
            }
            torch::Tensor batch = (after - (1.0 - mom) * before[i]) / mom;
            after.copy_(m->alpha * before[i] + (1.0 - m->alpha) * batch);
        }
    }
    return run_forward(m, x, grad);
}

// SA_NORM_EMA: the training-mode pass updates the stored statistics; the
// evaluation-mode pass normalises with them.
static torch::jit::IValue forward_ema(sa_model *m, const torch::Tensor &x, bool grad)
{
    set_bn_training(m, true);
    try {
        run_forward(m, x, false);
    } catch (...) {
        set_bn_training(m, false);
        throw;
    }
    set_bn_training(m, false);
    return run_forward(m, x, grad);
}

int sa_model_forward(sa_model *m, const sa_tensor *input, int grad, sa_tensor **out, sa_error *err)
{
    SA_TRY
    torch::jit::IValue y;
    switch (m->mode) {
    case SA_NORM_BATCH: {
        StatsShield shield(m);
        y = run_forward(m, input->t, grad != 0);
        break;
    }
    case SA_NORM_MIX:
        y = forward_mix(m, input->t, grad != 0);
        break;
    case SA_NORM_EMA:
        y = forward_ema(m, input->t, grad != 0);
        break;
    default:
        y = run_forward(m, input->t, grad != 0);
    }
    if (!y.isTensor())
        return sa_error_set(err, SA_EFORMAT, "torch",
                            "model output is a %s, expected a tensor of logits",
                            y.tagKind().c_str());
    torch::Tensor logits = y.toTensor();
    if (logits.dim() != 2 || logits.size(0) != input->t.size(0))
        return sa_error_set(err, SA_EFORMAT, "torch",
                            "model output has shape %s, expected (batch, classes)",
                            c10::str(logits.sizes()).c_str());
    return wrap(out, std::move(logits));
    SA_CATCH(err)
}

int sa_model_state_save(const sa_model *m, sa_state **out, sa_error *err)
{
    SA_TRY
    auto s = std::make_unique<sa_state>();
    for (const auto &p : m->mod.parameters())
        s->params.push_back(p.detach().clone());
    for (const auto &b : m->mod.buffers())
        s->buffers.push_back(b.detach().clone());
    *out = s.release();
    return 0;
    SA_CATCH(err)
}

int sa_model_state_load(sa_model *m, const sa_state *s, sa_error *err)
{
    SA_TRY
    torch::NoGradGuard ng;
    size_t i = 0;
    for (auto p : m->mod.parameters()) {
        if (i >= s->params.size())
            return sa_error_set(err, SA_EINVAL, "torch", "state does not match the model");
        p.copy_(s->params[i++]);
        if (p.grad().defined())
            p.mutable_grad().zero_();
    }
    i = 0;
    for (auto b : m->mod.buffers()) {
        if (i >= s->buffers.size())
            return sa_error_set(err, SA_EINVAL, "torch", "state does not match the model");
        b.copy_(s->buffers[i++]);
    }
    return 0;
    SA_CATCH(err)
}

void sa_state_free(sa_state *s)
{
    delete s;
}

int sa_model_state_diff(const sa_model *m, const sa_state *ref, sa_state_diff *d, sa_error *err)
{
    SA_TRY
    memset(d, 0, sizeof *d);
    size_t i = 0;
    for (const auto &p : m->mod.parameters()) {
        if (i >= ref->params.size())
            return sa_error_set(err, SA_EINVAL, "torch", "state does not match the model");
        if (!torch::equal(p.detach(), ref->params[i++])) {
            d->params_changed++;
            d->trainable_changed += p.requires_grad();
        }
    }
    i = 0;
    for (const auto &b : m->mod.buffers()) {
        if (i >= ref->buffers.size())
            return sa_error_set(err, SA_EINVAL, "torch", "state does not match the model");
        d->buffers_changed += !torch::equal(b, ref->buffers[i++]);
    }
    return 0;
    SA_CATCH(err)
}

static int check_same(const std::vector<torch::Tensor> &a, const std::vector<torch::Tensor> &b,
                      sa_error *err)
{
    if (a.size() != b.size())
        return sa_error_set(err, SA_EINVAL, "torch", "models differ in structure (%zu vs %zu tensors)",
                            a.size(), b.size());
    for (size_t i = 0; i < a.size(); i++)
        if (!a[i].sizes().equals(b[i].sizes()))
            return sa_error_set(err, SA_EINVAL, "torch", "models differ in tensor %zu's shape", i);
    return 0;
}

static std::vector<torch::Tensor> list_params(const sa_model *m)
{
    std::vector<torch::Tensor> v;
    for (const auto &p : m->mod.parameters())
        v.push_back(p);
    return v;
}

static std::vector<torch::Tensor> list_buffers(const sa_model *m)
{
    std::vector<torch::Tensor> v;
    for (const auto &b : m->mod.buffers())
        v.push_back(b);
    return v;
}

int sa_model_copy_from(sa_model *dst, const sa_model *src, sa_error *err)
{
    return sa_model_ema_from(dst, src, 0.0, err);
}

int sa_model_ema_from(sa_model *dst, const sa_model *src, double momentum, sa_error *err)
{
    SA_TRY
    if (!(momentum >= 0.0 && momentum <= 1.0))
        return sa_error_set(err, SA_EINVAL, "torch", "EMA momentum %g outside [0, 1]", momentum);
    torch::NoGradGuard ng;
    auto dp = list_params(dst), sp = list_params(src);
    auto db = list_buffers(dst), sb = list_buffers(src);
    int rc = check_same(dp, sp, err);
    if (rc == 0)
        rc = check_same(db, sb, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < dp.size(); i++) {
        if (momentum == 0.0 || !dp[i].is_floating_point())
            dp[i].copy_(sp[i]);
        else
            dp[i].mul_(momentum).add_(sp[i], 1.0 - momentum);
    }
    for (size_t i = 0; i < db.size(); i++)
        db[i].copy_(sb[i]);
    return 0;
    SA_CATCH(err)
}

int sa_model_save(const sa_model *m, const char *path, sa_error *err)
{
    SA_TRY
    std::string tmp = std::string(path) + ".tmp";
    m->mod.save(tmp);
    if (rename(tmp.c_str(), path) != 0) {
        int e = errno;
        remove(tmp.c_str());
        return sa_error_set(err, SA_EIO, "torch", "cannot rename %s to %s: %s", tmp.c_str(), path,
                            strerror(e));
    }
    return 0;
    SA_CATCH(err)
}

/* ---- optimisers --------------------------------------------------------- */

sa_optim_options sa_optim_options_default(sa_optim_kind kind)
{
    sa_optim_options o;
    memset(&o, 0, sizeof o);
    o.kind = kind;
    o.lr = 0.001;
    o.momentum = kind == SA_OPTIM_SGD ? 0.9 : 0.0;
    o.beta1 = 0.9;
    o.beta2 = 0.999;
    o.eps = 1e-8;
    o.weight_decay = kind == SA_OPTIM_ADAMW ? 0.01 : 0.0;
    return o;
}

int sa_optim_kind_parse(sa_optim_kind *out, const char *name, sa_error *err)
{
    if (name && strcmp(name, "sgd") == 0)
        *out = SA_OPTIM_SGD;
    else if (name && strcmp(name, "adam") == 0)
        *out = SA_OPTIM_ADAM;
    else if (name && strcmp(name, "adamw") == 0)
        *out = SA_OPTIM_ADAMW;
    else
        return sa_error_set(err, SA_EINVAL, "torch",
                            "unknown optimizer '%s' (expected sgd, adam or adamw)", name ? name : "");
    return 0;
}

int sa_optim_new(sa_optim **out, sa_model *m, const sa_optim_options *o, sa_error *err)
{
    SA_TRY
    if (m->trainable.empty())
        return sa_error_set(err, SA_EINVAL, "torch", "optimiser created with no trainable parameters");
    if (!(o->lr > 0.0))
        return sa_error_set(err, SA_EINVAL, "torch", "learning rate must be > 0 (got %g)", o->lr);
    if (o->weight_decay < 0.0)
        return sa_error_set(err, SA_EINVAL, "torch", "weight decay must be >= 0 (got %g)",
                            o->weight_decay);
    auto s = std::make_unique<sa_optim>();
    switch (o->kind) {
    case SA_OPTIM_SGD: {
        if (o->nesterov && (o->momentum <= 0.0 || o->dampening != 0.0))
            return sa_error_set(err, SA_EINVAL, "torch",
                                "Nesterov momentum needs momentum > 0 and dampening 0");
        auto opts = torch::optim::SGDOptions(o->lr)
                        .momentum(o->momentum)
                        .dampening(o->dampening)
                        .weight_decay(o->weight_decay)
                        .nesterov(o->nesterov != 0);
        s->opt = std::make_unique<torch::optim::SGD>(m->trainable, opts);
        break;
    }
    case SA_OPTIM_ADAM:
    case SA_OPTIM_ADAMW: {
        if (!(o->beta1 >= 0.0 && o->beta1 < 1.0 && o->beta2 >= 0.0 && o->beta2 < 1.0 && o->eps > 0.0))
            return sa_error_set(err, SA_EINVAL, "torch",
                                "Adam needs 0 <= betas < 1 and eps > 0 (got %g, %g, %g)", o->beta1,
                                o->beta2, o->eps);
        if (o->kind == SA_OPTIM_ADAM) {
            auto opts = torch::optim::AdamOptions(o->lr)
                            .betas(std::make_tuple(o->beta1, o->beta2))
                            .eps(o->eps)
                            .weight_decay(o->weight_decay);
            s->opt = std::make_unique<torch::optim::Adam>(m->trainable, opts);
        } else {
            auto opts = torch::optim::AdamWOptions(o->lr)
                            .betas(std::make_tuple(o->beta1, o->beta2))
                            .eps(o->eps)
                            .weight_decay(o->weight_decay);
            s->opt = std::make_unique<torch::optim::AdamW>(m->trainable, opts);
        }
        break;
    }
    default:
        return sa_error_set(err, SA_EINVAL, "torch", "unknown optimizer kind %d", (int)o->kind);
    }
    *out = s.release();
    return 0;
    SA_CATCH(err)
}

void sa_optim_free(sa_optim *o)
{
    delete o;
}

int sa_optim_zero_grad(sa_optim *o, sa_error *err)
{
    SA_TRY
    o->opt->zero_grad();
    return 0;
    SA_CATCH(err)
}

int sa_optim_step(sa_optim *o, sa_error *err)
{
    SA_TRY
    o->opt->step();
    return 0;
    SA_CATCH(err)
}

} // extern "C"
