/* Register the one handler's builds under one name (scale_kernel.h). */
#include <ringkernel/ringkernel.h>

int scale_cpu(rk_ctx *ctx, const rk_message *m); /* RK_DEV_ENTRY(scale), C */
extern const unsigned char scale_opencl[];	 /* the header's text */
extern const size_t scale_opencl_size;
#if SCALE_HAVE_CUDA
extern const unsigned char scale_cuda[]; /* nvcc --fatbin scale.cu */
extern const size_t scale_cuda_size;
#endif
#if SCALE_HAVE_HIP
extern const unsigned char scale_hip[]; /* hipcc --genco scale.hip */
extern const size_t scale_hip_size;
#endif

int scale_register(void);
int scale_register(void)
{
	rk_kernel_def def = { .name = "scale", .cpu = scale_cpu, .state_size = 4096 };
	unsigned i = 0;
	def.device[i].backend = "opencl";
	def.device[i].image = scale_opencl;
	def.device[i].image_size = scale_opencl_size;
	def.device[i++].entry = "scale_persistent";
#if SCALE_HAVE_CUDA
	def.device[i].backend = "cuda";
	def.device[i].image = scale_cuda;
	def.device[i].image_size = scale_cuda_size;
	def.device[i++].entry = "scale_persistent";
#endif
#if SCALE_HAVE_HIP
	def.device[i].backend = "hip";
	def.device[i].image = scale_hip;
	def.device[i].image_size = scale_hip_size;
	def.device[i++].entry = "scale_persistent";
#endif
	return rk_register_kernel(&def);
}
