/* Register the one handler's builds under one name (tests/scale_kernel.h). */
#include <ringkernel/ringkernel.h>

int scale_cpu(rk_ctx *ctx, const rk_message *m); /* RK_DEV_ENTRY(scale), C */
extern const unsigned char rkt_scale_opencl[];	 /* the header's text */
extern const size_t rkt_scale_opencl_size;
#if RKT_HAVE_CUDA
extern const unsigned char rkt_scale_cuda[]; /* nvcc --fatbin tests/gpu/scale.cu */
extern const size_t rkt_scale_cuda_size;
#endif
#if RKT_HAVE_HIP
extern const unsigned char rkt_scale_hip[]; /* hipcc --genco tests/gpu/scale.hip */
extern const size_t rkt_scale_hip_size;
#endif

int scale_register(void);
int scale_register(void)
{
	rk_kernel_def def = { .name = "scale", .cpu = scale_cpu, .state_size = 4096 };
	unsigned i = 0;
	def.device[i].backend = "opencl";
	def.device[i].image = rkt_scale_opencl;
	def.device[i].image_size = rkt_scale_opencl_size;
	def.device[i++].entry = "scale_persistent";
#if RKT_HAVE_CUDA
	def.device[i].backend = "cuda";
	def.device[i].image = rkt_scale_cuda;
	def.device[i].image_size = rkt_scale_cuda_size;
	def.device[i++].entry = "scale_persistent";
#endif
#if RKT_HAVE_HIP
	def.device[i].backend = "hip";
	def.device[i].image = rkt_scale_hip;
	def.device[i].image_size = rkt_scale_hip_size;
	def.device[i++].entry = "scale_persistent";
#endif
	return rk_register_kernel(&def);
}
