/*
 * The payload of each message type as its receiving role takes it apart,
 * one letter per field: u u32, q u64, s string (may be NULL), b bytes.
 * NULL: not a message of this program.
 */
#include <stddef.h>
#include <stdint.h>

const char	*ipc_shape_postern(uint32_t);
const char	*ipc_shape_posternd(uint32_t);

/*
 * The payloads that have a decoder of their own (proto.c of each program)
 * go through it instead: 1 when the type is one of them, 0 otherwise.
 */
struct ipc_msg;
int		 ipc_decode_postern(const struct ipc_msg *);
int		 ipc_decode_posternd(const struct ipc_msg *);
