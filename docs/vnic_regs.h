/* vnic register map (BAR0) and descriptor layouts, for drivers written in C (C99).
 * Generated from model/include/vnic/model/regs.hpp by `vnic regmap --c-header`; do not edit.
 * A test (RegsCHeader.IsUpToDate) fails when this file is stale; docs/regmap.md says what
 * each register does. Every register is 32 bits, accessed with aligned 4-byte reads/writes.
 * Field macros: VNIC_<REG>_<FIELD>_SHIFT, _WIDTH, and _MASK (in place, already shifted). */
#ifndef VNIC_REGS_H
#define VNIC_REGS_H

/* Field access: VNIC_FIELD_GET(VNIC_STATUS_SPEED, v), VNIC_FIELD_PREP(VNIC_CTRL_EN, 1). */
#define VNIC_FIELD_GET(f, v) (((v) & f##_MASK) >> f##_SHIFT)
#define VNIC_FIELD_PREP(f, x) (((x) << f##_SHIFT) & f##_MASK)

/* Sizing. */
#define VNIC_BAR0_SIZE 0x8000u
#define VNIC_DEVICE_ID 0x564E4943u               /* ID register value ("VNIC"). */
#define VNIC_VERSION 0x00010001u                 /* VERSION register value. */
#define VNIC_MAX_QUEUE_PAIRS 8u
#define VNIC_MAX_VECTORS 9u                      /* One per queue pair, then link/errors. */
#define VNIC_MIN_RING_SIZE 8u
#define VNIC_MAX_RING_SIZE 4096u
#define VNIC_MIN_FRAME 64u                       /* Bytes, with the FCS. */
#define VNIC_MAX_FRAME_LIMIT 9022u               /* Largest MAX_FRAME value. */
#define VNIC_DEFAULT_MAX_FRAME 1518u
#define VNIC_DEFAULT_RX_BUF_SIZE 2048u

/* Registers. An array register is VNIC_REG_<NAME>(i), i < VNIC_REG_<NAME>_COUNT. */

/* ID (RO): Device identifier. */
#define VNIC_REG_ID 0x0000u
#define VNIC_REG_ID_RESET 0x564E4943u
/* ID.ID: 0x564E4943 ("VNIC"). */
#define VNIC_ID_ID_SHIFT 0u
#define VNIC_ID_ID_WIDTH 32u
#define VNIC_ID_ID_MASK 0xFFFFFFFFu

/* VERSION (RO): Register map version. */
#define VNIC_REG_VERSION 0x0004u
#define VNIC_REG_VERSION_RESET 0x00010001u
/* VERSION.MINOR: Minor version. */
#define VNIC_VERSION_MINOR_SHIFT 0u
#define VNIC_VERSION_MINOR_WIDTH 16u
#define VNIC_VERSION_MINOR_MASK 0x0000FFFFu
/* VERSION.MAJOR: Major version. */
#define VNIC_VERSION_MAJOR_SHIFT 16u
#define VNIC_VERSION_MAJOR_WIDTH 16u
#define VNIC_VERSION_MAJOR_MASK 0xFFFF0000u

/* CTRL (RW): Device control. */
#define VNIC_REG_CTRL 0x0008u
#define VNIC_REG_CTRL_RESET 0x00000000u
/* CTRL.EN: Device enable: queues may run only while set. */
#define VNIC_CTRL_EN_SHIFT 0u
#define VNIC_CTRL_EN_WIDTH 1u
#define VNIC_CTRL_EN_MASK 0x00000001u
/* CTRL.RST: Write 1: soft reset. Every register returns to its reset value (MAC_LO/HI to the
 * permanent address; the MSI-X table and the counters are kept), queues stop, in-flight DMA is
 * abandoned. Takes 10 us (STATUS.RESET_DONE). Reads 0. */
#define VNIC_CTRL_RST_SHIFT 1u
#define VNIC_CTRL_RST_WIDTH 1u
#define VNIC_CTRL_RST_MASK 0x00000002u

/* STATUS (RO): Device status (RESET_DONE is set after power-on). */
#define VNIC_REG_STATUS 0x000Cu
#define VNIC_REG_STATUS_RESET 0x00000010u
/* STATUS.LINK_UP: Link is up. */
#define VNIC_STATUS_LINK_UP_SHIFT 0u
#define VNIC_STATUS_LINK_UP_WIDTH 1u
#define VNIC_STATUS_LINK_UP_MASK 0x00000001u
/* STATUS.SPEED: Link speed: 0 none, 1 1G, 2 10G, 3 25G, 4 40G, 5 100G. */
#define VNIC_STATUS_SPEED_SHIFT 1u
#define VNIC_STATUS_SPEED_WIDTH 3u
#define VNIC_STATUS_SPEED_MASK 0x0000000Eu
/* STATUS.RESET_DONE: Set when the last soft reset (or power-on) has completed; 0 while a soft
 * reset runs (NicConfig::reset_ns, 10 us by default). */
#define VNIC_STATUS_RESET_DONE_SHIFT 4u
#define VNIC_STATUS_RESET_DONE_WIDTH 1u
#define VNIC_STATUS_RESET_DONE_MASK 0x00000010u

/* CAP (RO): Capabilities; the reset value depends on the instance (NUM_QP, NUM_VEC). */
#define VNIC_REG_CAP 0x0010u
/* CAP.NUM_QP: Number of queue pairs this instance has. */
#define VNIC_CAP_NUM_QP_SHIFT 0u
#define VNIC_CAP_NUM_QP_WIDTH 8u
#define VNIC_CAP_NUM_QP_MASK 0x000000FFu
/* CAP.MIN_RING_LOG2: log2 of the smallest ring size (8). */
#define VNIC_CAP_MIN_RING_LOG2_SHIFT 8u
#define VNIC_CAP_MIN_RING_LOG2_WIDTH 4u
#define VNIC_CAP_MIN_RING_LOG2_MASK 0x00000F00u
/* CAP.MAX_RING_LOG2: log2 of the largest ring size (4096). */
#define VNIC_CAP_MAX_RING_LOG2_SHIFT 12u
#define VNIC_CAP_MAX_RING_LOG2_WIDTH 4u
#define VNIC_CAP_MAX_RING_LOG2_MASK 0x0000F000u
/* CAP.NUM_VEC: Interrupt vectors: one per queue pair, then one for link and errors. */
#define VNIC_CAP_NUM_VEC_SHIFT 16u
#define VNIC_CAP_NUM_VEC_WIDTH 8u
#define VNIC_CAP_NUM_VEC_MASK 0x00FF0000u

/* ICR (W1C): Interrupt cause; write 1 to clear a bit. */
#define VNIC_REG_ICR 0x0020u
#define VNIC_REG_ICR_RESET 0x00000000u
/* ICR.RXQ: Bit i: RX completions of queue pair i. */
#define VNIC_ICR_RXQ_SHIFT 0u
#define VNIC_ICR_RXQ_WIDTH 8u
#define VNIC_ICR_RXQ_MASK 0x000000FFu
/* ICR.TXQ: Bit i: TX completions of queue pair i. */
#define VNIC_ICR_TXQ_SHIFT 8u
#define VNIC_ICR_TXQ_WIDTH 8u
#define VNIC_ICR_TXQ_MASK 0x0000FF00u
/* ICR.LINK: Link state changed. */
#define VNIC_ICR_LINK_SHIFT 30u
#define VNIC_ICR_LINK_WIDTH 1u
#define VNIC_ICR_LINK_MASK 0x40000000u
/* ICR.ERR: An error was latched in ERR_CAUSE. */
#define VNIC_ICR_ERR_SHIFT 31u
#define VNIC_ICR_ERR_WIDTH 1u
#define VNIC_ICR_ERR_MASK 0x80000000u

/* IMASK (RO): Vector mask (1 = masked). Pending work is kept while masked and fires on unmask. */
#define VNIC_REG_IMASK 0x0024u
#define VNIC_REG_IMASK_RESET 0x00000000u
/* IMASK.VEC: Bit v: vector v is masked (vector NUM_QP is link/errors). */
#define VNIC_IMASK_VEC_SHIFT 0u
#define VNIC_IMASK_VEC_WIDTH 9u
#define VNIC_IMASK_VEC_MASK 0x000001FFu

/* IMASK_SET (WO): Write 1 to mask vector v. */
#define VNIC_REG_IMASK_SET 0x0028u
#define VNIC_REG_IMASK_SET_RESET 0x00000000u
/* IMASK_SET.VEC: Bit v: vector v is masked (vector NUM_QP is link/errors). */
#define VNIC_IMASK_SET_VEC_SHIFT 0u
#define VNIC_IMASK_SET_VEC_WIDTH 9u
#define VNIC_IMASK_SET_VEC_MASK 0x000001FFu

/* IMASK_CLR (WO): Write 1 to unmask vector v; pending completions then fire. */
#define VNIC_REG_IMASK_CLR 0x002Cu
#define VNIC_REG_IMASK_CLR_RESET 0x00000000u
/* IMASK_CLR.VEC: Bit v: vector v is masked (vector NUM_QP is link/errors). */
#define VNIC_IMASK_CLR_VEC_SHIFT 0u
#define VNIC_IMASK_CLR_VEC_WIDTH 9u
#define VNIC_IMASK_CLR_VEC_MASK 0x000001FFu

/* ERR_CAUSE (W1C): Latched error causes; write 1 to clear. */
#define VNIC_REG_ERR_CAUSE 0x0030u
#define VNIC_REG_ERR_CAUSE_RESET 0x00000000u
/* ERR_CAUSE.RX_DMA: An RX DMA access failed (address outside host memory or refused). */
#define VNIC_ERR_CAUSE_RX_DMA_SHIFT 0u
#define VNIC_ERR_CAUSE_RX_DMA_WIDTH 1u
#define VNIC_ERR_CAUSE_RX_DMA_MASK 0x00000001u
/* ERR_CAUSE.TX_DMA: A TX DMA access failed. */
#define VNIC_ERR_CAUSE_TX_DMA_SHIFT 1u
#define VNIC_ERR_CAUSE_TX_DMA_WIDTH 1u
#define VNIC_ERR_CAUSE_TX_DMA_MASK 0x00000002u
/* ERR_CAUSE.RING_CFG: A queue was enabled with a bad ring size, base alignment, buffer size, or
 * a tail beyond the size. */
#define VNIC_ERR_CAUSE_RING_CFG_SHIFT 2u
#define VNIC_ERR_CAUSE_RING_CFG_WIDTH 1u
#define VNIC_ERR_CAUSE_RING_CFG_MASK 0x00000004u
/* ERR_CAUSE.TAIL: A tail was written beyond the ring size or backwards (the write was ignored). */
#define VNIC_ERR_CAUSE_TAIL_SHIFT 3u
#define VNIC_ERR_CAUSE_TAIL_WIDTH 1u
#define VNIC_ERR_CAUSE_TAIL_MASK 0x00000008u
/* ERR_CAUSE.TX_DESC: A TX descriptor was malformed (zero length, frame too long, no EOP). */
#define VNIC_ERR_CAUSE_TX_DESC_SHIFT 4u
#define VNIC_ERR_CAUSE_TX_DESC_WIDTH 1u
#define VNIC_ERR_CAUSE_TX_DESC_MASK 0x00000010u
/* ERR_CAUSE.MMIO: An MMIO access was unaligned, not 4 bytes, to no register, or an out-of-range
 * value. */
#define VNIC_ERR_CAUSE_MMIO_SHIFT 5u
#define VNIC_ERR_CAUSE_MMIO_WIDTH 1u
#define VNIC_ERR_CAUSE_MMIO_MASK 0x00000020u

/* ERR_ADDR_LO (RO): Host address of the first failed DMA since the last reset. */
#define VNIC_REG_ERR_ADDR_LO 0x0034u
#define VNIC_REG_ERR_ADDR_LO_RESET 0x00000000u
/* ERR_ADDR_LO.ADDR_LO: Bits 31:0 of the address. */
#define VNIC_ERR_ADDR_LO_ADDR_LO_SHIFT 0u
#define VNIC_ERR_ADDR_LO_ADDR_LO_WIDTH 32u
#define VNIC_ERR_ADDR_LO_ADDR_LO_MASK 0xFFFFFFFFu

/* ERR_ADDR_HI (RO): High half of ERR_ADDR. */
#define VNIC_REG_ERR_ADDR_HI 0x0038u
#define VNIC_REG_ERR_ADDR_HI_RESET 0x00000000u
/* ERR_ADDR_HI.ADDR_HI: Bits 63:32 of the address. */
#define VNIC_ERR_ADDR_HI_ADDR_HI_SHIFT 0u
#define VNIC_ERR_ADDR_HI_ADDR_HI_WIDTH 32u
#define VNIC_ERR_ADDR_HI_ADDR_HI_MASK 0xFFFFFFFFu

/* MAC_LO (RW): Station MAC address, octets 0-3. */
#define VNIC_REG_MAC_LO 0x0040u
/* MAC_LO.MAC0: First octet on the wire. */
#define VNIC_MAC_LO_MAC0_SHIFT 0u
#define VNIC_MAC_LO_MAC0_WIDTH 8u
#define VNIC_MAC_LO_MAC0_MASK 0x000000FFu
/* MAC_LO.MAC1: Second octet. */
#define VNIC_MAC_LO_MAC1_SHIFT 8u
#define VNIC_MAC_LO_MAC1_WIDTH 8u
#define VNIC_MAC_LO_MAC1_MASK 0x0000FF00u
/* MAC_LO.MAC2: Third octet. */
#define VNIC_MAC_LO_MAC2_SHIFT 16u
#define VNIC_MAC_LO_MAC2_WIDTH 8u
#define VNIC_MAC_LO_MAC2_MASK 0x00FF0000u
/* MAC_LO.MAC3: Fourth octet. */
#define VNIC_MAC_LO_MAC3_SHIFT 24u
#define VNIC_MAC_LO_MAC3_WIDTH 8u
#define VNIC_MAC_LO_MAC3_MASK 0xFF000000u

/* MAC_HI (RW): Station MAC address, octets 4-5. */
#define VNIC_REG_MAC_HI 0x0044u
/* MAC_HI.MAC4: Fifth octet. */
#define VNIC_MAC_HI_MAC4_SHIFT 0u
#define VNIC_MAC_HI_MAC4_WIDTH 8u
#define VNIC_MAC_HI_MAC4_MASK 0x000000FFu
/* MAC_HI.MAC5: Sixth octet. */
#define VNIC_MAC_HI_MAC5_SHIFT 8u
#define VNIC_MAC_HI_MAC5_WIDTH 8u
#define VNIC_MAC_HI_MAC5_MASK 0x0000FF00u

/* RX_CTRL (RW): Receive filter and FCS handling. */
#define VNIC_REG_RX_CTRL 0x0048u
#define VNIC_REG_RX_CTRL_RESET 0x00000004u
/* RX_CTRL.PROMISC: Accept every frame whatever its destination. */
#define VNIC_RX_CTRL_PROMISC_SHIFT 0u
#define VNIC_RX_CTRL_PROMISC_WIDTH 1u
#define VNIC_RX_CTRL_PROMISC_MASK 0x00000001u
/* RX_CTRL.ALLMULTI: Accept every multicast frame. */
#define VNIC_RX_CTRL_ALLMULTI_SHIFT 1u
#define VNIC_RX_CTRL_ALLMULTI_WIDTH 1u
#define VNIC_RX_CTRL_ALLMULTI_MASK 0x00000002u
/* RX_CTRL.BCAST: Accept broadcast frames. */
#define VNIC_RX_CTRL_BCAST_SHIFT 2u
#define VNIC_RX_CTRL_BCAST_WIDTH 1u
#define VNIC_RX_CTRL_BCAST_MASK 0x00000004u
/* RX_CTRL.RX_FCS: Keep the 4-byte FCS at the end of received data (ethtool rx-fcs). */
#define VNIC_RX_CTRL_RX_FCS_SHIFT 3u
#define VNIC_RX_CTRL_RX_FCS_WIDTH 1u
#define VNIC_RX_CTRL_RX_FCS_MASK 0x00000008u
/* RX_CTRL.RX_ALL: Deliver frames with a bad FCS or length, flagged in the descriptor (ethtool
 * rx-all). */
#define VNIC_RX_CTRL_RX_ALL_SHIFT 4u
#define VNIC_RX_CTRL_RX_ALL_WIDTH 1u
#define VNIC_RX_CTRL_RX_ALL_MASK 0x00000010u

/* MAX_FRAME (RW): Maximum frame size; a write outside 64..9022 is ignored and counted. */
#define VNIC_REG_MAX_FRAME 0x004Cu
#define VNIC_REG_MAX_FRAME_RESET 0x000005EEu
/* MAX_FRAME.SIZE: Largest frame accepted or sent, in bytes including the FCS (64..9022). */
#define VNIC_MAX_FRAME_SIZE_SHIFT 0u
#define VNIC_MAX_FRAME_SIZE_WIDTH 14u
#define VNIC_MAX_FRAME_SIZE_MASK 0x00003FFFu

/* MC_HASH_LO (RW): Multicast hash filter, bits 31:0 (see mc_hash_index). */
#define VNIC_REG_MC_HASH_LO 0x0050u
#define VNIC_REG_MC_HASH_LO_RESET 0x00000000u
/* MC_HASH_LO.HASH: Multicast hash filter bits 31:0. */
#define VNIC_MC_HASH_LO_HASH_SHIFT 0u
#define VNIC_MC_HASH_LO_HASH_WIDTH 32u
#define VNIC_MC_HASH_LO_HASH_MASK 0xFFFFFFFFu

/* MC_HASH_HI (RW): Multicast hash filter, bits 63:32. */
#define VNIC_REG_MC_HASH_HI 0x0054u
#define VNIC_REG_MC_HASH_HI_RESET 0x00000000u
/* MC_HASH_HI.HASH: Multicast hash filter bits 63:32. */
#define VNIC_MC_HASH_HI_HASH_SHIFT 0u
#define VNIC_MC_HASH_HI_HASH_WIDTH 32u
#define VNIC_MC_HASH_HI_HASH_MASK 0xFFFFFFFFu

/* VEC_COUNT (RO): Per-vector interrupt count. */
#define VNIC_REG_VEC_COUNT(i) (0x0100u + (i) * 0x0004u)
#define VNIC_REG_VEC_COUNT_COUNT 9u
#define VNIC_REG_VEC_COUNT_STRIDE 0x0004u
#define VNIC_REG_VEC_COUNT_RESET 0x00000000u
/* VEC_COUNT.COUNT: Interrupts raised on this vector since reset (wraps). */
#define VNIC_VEC_COUNT_COUNT_SHIFT 0u
#define VNIC_VEC_COUNT_COUNT_WIDTH 32u
#define VNIC_VEC_COUNT_COUNT_MASK 0xFFFFFFFFu

/* RXQ_BASE_LO (RW): RX ring base, low half. */
#define VNIC_REG_RXQ_BASE_LO(i) (0x1000u + (i) * 0x0100u)
#define VNIC_REG_RXQ_BASE_LO_COUNT 8u
#define VNIC_REG_RXQ_BASE_LO_STRIDE 0x0100u
#define VNIC_REG_RXQ_BASE_LO_RESET 0x00000000u
/* RXQ_BASE_LO.BASE_LO: Ring base bits 31:0; must be 16-byte aligned. */
#define VNIC_RXQ_BASE_LO_BASE_LO_SHIFT 0u
#define VNIC_RXQ_BASE_LO_BASE_LO_WIDTH 32u
#define VNIC_RXQ_BASE_LO_BASE_LO_MASK 0xFFFFFFFFu

/* RXQ_BASE_HI (RW): RX ring base, high half. */
#define VNIC_REG_RXQ_BASE_HI(i) (0x1004u + (i) * 0x0100u)
#define VNIC_REG_RXQ_BASE_HI_COUNT 8u
#define VNIC_REG_RXQ_BASE_HI_STRIDE 0x0100u
#define VNIC_REG_RXQ_BASE_HI_RESET 0x00000000u
/* RXQ_BASE_HI.BASE_HI: Ring base bits 63:32. */
#define VNIC_RXQ_BASE_HI_BASE_HI_SHIFT 0u
#define VNIC_RXQ_BASE_HI_BASE_HI_WIDTH 32u
#define VNIC_RXQ_BASE_HI_BASE_HI_MASK 0xFFFFFFFFu

/* RXQ_SIZE (RW): RX ring size in descriptors. */
#define VNIC_REG_RXQ_SIZE(i) (0x1008u + (i) * 0x0100u)
#define VNIC_REG_RXQ_SIZE_COUNT 8u
#define VNIC_REG_RXQ_SIZE_STRIDE 0x0100u
#define VNIC_REG_RXQ_SIZE_RESET 0x00000000u
/* RXQ_SIZE.SIZE: Ring size in descriptors: a power of two, 8..4096. */
#define VNIC_RXQ_SIZE_SIZE_SHIFT 0u
#define VNIC_RXQ_SIZE_SIZE_WIDTH 13u
#define VNIC_RXQ_SIZE_SIZE_MASK 0x00001FFFu

/* RXQ_HEAD (RO): RX head: next descriptor the device fills. */
#define VNIC_REG_RXQ_HEAD(i) (0x100Cu + (i) * 0x0100u)
#define VNIC_REG_RXQ_HEAD_COUNT 8u
#define VNIC_REG_RXQ_HEAD_STRIDE 0x0100u
#define VNIC_REG_RXQ_HEAD_RESET 0x00000000u
/* RXQ_HEAD.HEAD: Next descriptor the device will use (device-owned). */
#define VNIC_RXQ_HEAD_HEAD_SHIFT 0u
#define VNIC_RXQ_HEAD_HEAD_WIDTH 12u
#define VNIC_RXQ_HEAD_HEAD_MASK 0x00000FFFu

/* RXQ_TAIL (RW): RX tail doorbell: descriptors up to tail-1 are free buffers. */
#define VNIC_REG_RXQ_TAIL(i) (0x1010u + (i) * 0x0100u)
#define VNIC_REG_RXQ_TAIL_COUNT 8u
#define VNIC_REG_RXQ_TAIL_STRIDE 0x0100u
#define VNIC_REG_RXQ_TAIL_RESET 0x00000000u
/* RXQ_TAIL.TAIL: One past the last descriptor handed to the device (doorbell). While the queue
 * runs it may only move forward: a value behind the current tail (or >= the size) is ignored and
 * counted. */
#define VNIC_RXQ_TAIL_TAIL_SHIFT 0u
#define VNIC_RXQ_TAIL_TAIL_WIDTH 13u
#define VNIC_RXQ_TAIL_TAIL_MASK 0x00001FFFu

/* RXQ_BUF_SIZE (RW): RX buffer size. */
#define VNIC_REG_RXQ_BUF_SIZE(i) (0x1014u + (i) * 0x0100u)
#define VNIC_REG_RXQ_BUF_SIZE_COUNT 8u
#define VNIC_REG_RXQ_BUF_SIZE_STRIDE 0x0100u
#define VNIC_REG_RXQ_BUF_SIZE_RESET 0x00000800u
/* RXQ_BUF_SIZE.SIZE: RX buffer size in bytes (64..16384); a longer frame is a length error. */
#define VNIC_RXQ_BUF_SIZE_SIZE_SHIFT 0u
#define VNIC_RXQ_BUF_SIZE_SIZE_WIDTH 16u
#define VNIC_RXQ_BUF_SIZE_SIZE_MASK 0x0000FFFFu

/* RXQ_CTRL (RW): RX queue control. */
#define VNIC_REG_RXQ_CTRL(i) (0x1018u + (i) * 0x0100u)
#define VNIC_REG_RXQ_CTRL_COUNT 8u
#define VNIC_REG_RXQ_CTRL_STRIDE 0x0100u
#define VNIC_REG_RXQ_CTRL_RESET 0x00000000u
/* RXQ_CTRL.ENABLE: Start the queue from slot 0 (ring registers and the tail are checked here);
 * clear to stop it and revoke its work in flight (fetches, frames not yet on the wire, writes
 * not yet landed). */
#define VNIC_RXQ_CTRL_ENABLE_SHIFT 0u
#define VNIC_RXQ_CTRL_ENABLE_WIDTH 1u
#define VNIC_RXQ_CTRL_ENABLE_MASK 0x00000001u

/* RXQ_STATUS (RO): RX queue status. */
#define VNIC_REG_RXQ_STATUS(i) (0x101Cu + (i) * 0x0100u)
#define VNIC_REG_RXQ_STATUS_COUNT 8u
#define VNIC_REG_RXQ_STATUS_STRIDE 0x0100u
#define VNIC_REG_RXQ_STATUS_RESET 0x00000000u
/* RXQ_STATUS.RUNNING: The queue is enabled and has no error. */
#define VNIC_RXQ_STATUS_RUNNING_SHIFT 0u
#define VNIC_RXQ_STATUS_RUNNING_WIDTH 1u
#define VNIC_RXQ_STATUS_RUNNING_MASK 0x00000001u
/* RXQ_STATUS.ERROR: The queue stopped on an error; only a soft reset restarts it. */
#define VNIC_RXQ_STATUS_ERROR_SHIFT 1u
#define VNIC_RXQ_STATUS_ERROR_WIDTH 1u
#define VNIC_RXQ_STATUS_ERROR_MASK 0x00000002u
/* RXQ_STATUS.ERR_CODE: Why: 1 DMA refused, 2 bad ring configuration (size, base, buffer size, or
 * tail >= size). */
#define VNIC_RXQ_STATUS_ERR_CODE_SHIFT 8u
#define VNIC_RXQ_STATUS_ERR_CODE_WIDTH 8u
#define VNIC_RXQ_STATUS_ERR_CODE_MASK 0x0000FF00u

/* RX_USECS (RW): ethtool rx-usecs. */
#define VNIC_REG_RX_USECS(i) (0x1020u + (i) * 0x0100u)
#define VNIC_REG_RX_USECS_COUNT 8u
#define VNIC_REG_RX_USECS_STRIDE 0x0100u
#define VNIC_REG_RX_USECS_RESET 0x00000000u
/* RX_USECS.USECS: Interrupt moderation time in microseconds; what it times depends on MODE (0:
 * off). */
#define VNIC_RX_USECS_USECS_SHIFT 0u
#define VNIC_RX_USECS_USECS_WIDTH 16u
#define VNIC_RX_USECS_USECS_MASK 0x0000FFFFu
/* RX_USECS.MODE: Moderation rule (docs/hw.md): 0 timer from the first completion after an
 * interrupt, with FRAMES; 1 minimum interval between interrupts (ITR); 2 packet timer restarted
 * by every completion, bounded by *_ABS_USECS (RDTR/RADV). 3 is reserved: the write is refused
 * (mmio_errors, ERR_CAUSE.MMIO). */
#define VNIC_RX_USECS_MODE_SHIFT 16u
#define VNIC_RX_USECS_MODE_WIDTH 2u
#define VNIC_RX_USECS_MODE_MASK 0x00030000u

/* RX_FRAMES (RW): ethtool rx-frames. */
#define VNIC_REG_RX_FRAMES(i) (0x1024u + (i) * 0x0100u)
#define VNIC_REG_RX_FRAMES_COUNT 8u
#define VNIC_REG_RX_FRAMES_STRIDE 0x0100u
#define VNIC_REG_RX_FRAMES_RESET 0x00000000u
/* RX_FRAMES.FRAMES: Interrupt after this many completions (0: off; 1: every completion). */
#define VNIC_RX_FRAMES_FRAMES_SHIFT 0u
#define VNIC_RX_FRAMES_FRAMES_WIDTH 16u
#define VNIC_RX_FRAMES_FRAMES_MASK 0x0000FFFFu

/* RX_ABS_USECS (RW): RX packet timer's absolute bound (e1000 RADV). */
#define VNIC_REG_RX_ABS_USECS(i) (0x1028u + (i) * 0x0100u)
#define VNIC_REG_RX_ABS_USECS_COUNT 8u
#define VNIC_REG_RX_ABS_USECS_STRIDE 0x0100u
#define VNIC_REG_RX_ABS_USECS_RESET 0x00000000u
/* RX_ABS_USECS.ABS_USECS: MODE 2 only: the most an interrupt is delayed after the first
 * completion since the last one, in microseconds (0: no bound). */
#define VNIC_RX_ABS_USECS_ABS_USECS_SHIFT 0u
#define VNIC_RX_ABS_USECS_ABS_USECS_WIDTH 16u
#define VNIC_RX_ABS_USECS_ABS_USECS_MASK 0x0000FFFFu

/* TXQ_BASE_LO (RW): TX ring base, low half. */
#define VNIC_REG_TXQ_BASE_LO(i) (0x1040u + (i) * 0x0100u)
#define VNIC_REG_TXQ_BASE_LO_COUNT 8u
#define VNIC_REG_TXQ_BASE_LO_STRIDE 0x0100u
#define VNIC_REG_TXQ_BASE_LO_RESET 0x00000000u
/* TXQ_BASE_LO.BASE_LO: Ring base bits 31:0; must be 16-byte aligned. */
#define VNIC_TXQ_BASE_LO_BASE_LO_SHIFT 0u
#define VNIC_TXQ_BASE_LO_BASE_LO_WIDTH 32u
#define VNIC_TXQ_BASE_LO_BASE_LO_MASK 0xFFFFFFFFu

/* TXQ_BASE_HI (RW): TX ring base, high half. */
#define VNIC_REG_TXQ_BASE_HI(i) (0x1044u + (i) * 0x0100u)
#define VNIC_REG_TXQ_BASE_HI_COUNT 8u
#define VNIC_REG_TXQ_BASE_HI_STRIDE 0x0100u
#define VNIC_REG_TXQ_BASE_HI_RESET 0x00000000u
/* TXQ_BASE_HI.BASE_HI: Ring base bits 63:32. */
#define VNIC_TXQ_BASE_HI_BASE_HI_SHIFT 0u
#define VNIC_TXQ_BASE_HI_BASE_HI_WIDTH 32u
#define VNIC_TXQ_BASE_HI_BASE_HI_MASK 0xFFFFFFFFu

/* TXQ_SIZE (RW): TX ring size in descriptors. */
#define VNIC_REG_TXQ_SIZE(i) (0x1048u + (i) * 0x0100u)
#define VNIC_REG_TXQ_SIZE_COUNT 8u
#define VNIC_REG_TXQ_SIZE_STRIDE 0x0100u
#define VNIC_REG_TXQ_SIZE_RESET 0x00000000u
/* TXQ_SIZE.SIZE: Ring size in descriptors: a power of two, 8..4096. */
#define VNIC_TXQ_SIZE_SIZE_SHIFT 0u
#define VNIC_TXQ_SIZE_SIZE_WIDTH 13u
#define VNIC_TXQ_SIZE_SIZE_MASK 0x00001FFFu

/* TXQ_HEAD (RO): TX head: next descriptor the device reads. */
#define VNIC_REG_TXQ_HEAD(i) (0x104Cu + (i) * 0x0100u)
#define VNIC_REG_TXQ_HEAD_COUNT 8u
#define VNIC_REG_TXQ_HEAD_STRIDE 0x0100u
#define VNIC_REG_TXQ_HEAD_RESET 0x00000000u
/* TXQ_HEAD.HEAD: Next descriptor the device will use (device-owned). */
#define VNIC_TXQ_HEAD_HEAD_SHIFT 0u
#define VNIC_TXQ_HEAD_HEAD_WIDTH 12u
#define VNIC_TXQ_HEAD_HEAD_MASK 0x00000FFFu

/* TXQ_TAIL (RW): TX tail doorbell: descriptors up to tail-1 are ready to send. */
#define VNIC_REG_TXQ_TAIL(i) (0x1050u + (i) * 0x0100u)
#define VNIC_REG_TXQ_TAIL_COUNT 8u
#define VNIC_REG_TXQ_TAIL_STRIDE 0x0100u
#define VNIC_REG_TXQ_TAIL_RESET 0x00000000u
/* TXQ_TAIL.TAIL: One past the last descriptor handed to the device (doorbell). While the queue
 * runs it may only move forward: a value behind the current tail (or >= the size) is ignored and
 * counted. */
#define VNIC_TXQ_TAIL_TAIL_SHIFT 0u
#define VNIC_TXQ_TAIL_TAIL_WIDTH 13u
#define VNIC_TXQ_TAIL_TAIL_MASK 0x00001FFFu

/* TXQ_CTRL (RW): TX queue control. */
#define VNIC_REG_TXQ_CTRL(i) (0x1058u + (i) * 0x0100u)
#define VNIC_REG_TXQ_CTRL_COUNT 8u
#define VNIC_REG_TXQ_CTRL_STRIDE 0x0100u
#define VNIC_REG_TXQ_CTRL_RESET 0x00000000u
/* TXQ_CTRL.ENABLE: Start the queue from slot 0 (ring registers and the tail are checked here);
 * clear to stop it and revoke its work in flight (fetches, frames not yet on the wire, writes
 * not yet landed). */
#define VNIC_TXQ_CTRL_ENABLE_SHIFT 0u
#define VNIC_TXQ_CTRL_ENABLE_WIDTH 1u
#define VNIC_TXQ_CTRL_ENABLE_MASK 0x00000001u

/* TXQ_STATUS (RO): TX queue status. */
#define VNIC_REG_TXQ_STATUS(i) (0x105Cu + (i) * 0x0100u)
#define VNIC_REG_TXQ_STATUS_COUNT 8u
#define VNIC_REG_TXQ_STATUS_STRIDE 0x0100u
#define VNIC_REG_TXQ_STATUS_RESET 0x00000000u
/* TXQ_STATUS.RUNNING: The queue is enabled and has no error. */
#define VNIC_TXQ_STATUS_RUNNING_SHIFT 0u
#define VNIC_TXQ_STATUS_RUNNING_WIDTH 1u
#define VNIC_TXQ_STATUS_RUNNING_MASK 0x00000001u
/* TXQ_STATUS.ERROR: The queue stopped on an error; only a soft reset restarts it. */
#define VNIC_TXQ_STATUS_ERROR_SHIFT 1u
#define VNIC_TXQ_STATUS_ERROR_WIDTH 1u
#define VNIC_TXQ_STATUS_ERROR_MASK 0x00000002u
/* TXQ_STATUS.ERR_CODE: Why: 1 DMA refused, 2 bad ring configuration (size, base, buffer size, or
 * tail >= size). */
#define VNIC_TXQ_STATUS_ERR_CODE_SHIFT 8u
#define VNIC_TXQ_STATUS_ERR_CODE_WIDTH 8u
#define VNIC_TXQ_STATUS_ERR_CODE_MASK 0x0000FF00u

/* TX_USECS (RW): ethtool tx-usecs. */
#define VNIC_REG_TX_USECS(i) (0x1060u + (i) * 0x0100u)
#define VNIC_REG_TX_USECS_COUNT 8u
#define VNIC_REG_TX_USECS_STRIDE 0x0100u
#define VNIC_REG_TX_USECS_RESET 0x00000000u
/* TX_USECS.USECS: Interrupt moderation time in microseconds; what it times depends on MODE (0:
 * off). */
#define VNIC_TX_USECS_USECS_SHIFT 0u
#define VNIC_TX_USECS_USECS_WIDTH 16u
#define VNIC_TX_USECS_USECS_MASK 0x0000FFFFu
/* TX_USECS.MODE: Moderation rule (docs/hw.md): 0 timer from the first completion after an
 * interrupt, with FRAMES; 1 minimum interval between interrupts (ITR); 2 packet timer restarted
 * by every completion, bounded by *_ABS_USECS (RDTR/RADV). 3 is reserved: the write is refused
 * (mmio_errors, ERR_CAUSE.MMIO). */
#define VNIC_TX_USECS_MODE_SHIFT 16u
#define VNIC_TX_USECS_MODE_WIDTH 2u
#define VNIC_TX_USECS_MODE_MASK 0x00030000u

/* TX_FRAMES (RW): ethtool tx-frames. */
#define VNIC_REG_TX_FRAMES(i) (0x1064u + (i) * 0x0100u)
#define VNIC_REG_TX_FRAMES_COUNT 8u
#define VNIC_REG_TX_FRAMES_STRIDE 0x0100u
#define VNIC_REG_TX_FRAMES_RESET 0x00000000u
/* TX_FRAMES.FRAMES: Interrupt after this many completions (0: off; 1: every completion). */
#define VNIC_TX_FRAMES_FRAMES_SHIFT 0u
#define VNIC_TX_FRAMES_FRAMES_WIDTH 16u
#define VNIC_TX_FRAMES_FRAMES_MASK 0x0000FFFFu

/* TX_ABS_USECS (RW): TX packet timer's absolute bound (e1000 TADV). */
#define VNIC_REG_TX_ABS_USECS(i) (0x1068u + (i) * 0x0100u)
#define VNIC_REG_TX_ABS_USECS_COUNT 8u
#define VNIC_REG_TX_ABS_USECS_STRIDE 0x0100u
#define VNIC_REG_TX_ABS_USECS_RESET 0x00000000u
/* TX_ABS_USECS.ABS_USECS: MODE 2 only: the most an interrupt is delayed after the first
 * completion since the last one, in microseconds (0: no bound). */
#define VNIC_TX_ABS_USECS_ABS_USECS_SHIFT 0u
#define VNIC_TX_ABS_USECS_ABS_USECS_WIDTH 16u
#define VNIC_TX_ABS_USECS_ABS_USECS_MASK 0x0000FFFFu

/* STAT_LO (RO): Counter i, bits 31:0; reading it latches bits 63:32 into STAT_HI[i]. Kept by
 * CTRL.RST. */
#define VNIC_REG_STAT_LO(i) (0x4000u + (i) * 0x0008u)
#define VNIC_REG_STAT_LO_COUNT 34u
#define VNIC_REG_STAT_LO_STRIDE 0x0008u
#define VNIC_REG_STAT_LO_RESET 0x00000000u
/* STAT_LO.VALUE: Counter half (see the counter table). */
#define VNIC_STAT_LO_VALUE_SHIFT 0u
#define VNIC_STAT_LO_VALUE_WIDTH 32u
#define VNIC_STAT_LO_VALUE_MASK 0xFFFFFFFFu

/* STAT_HI (RO): Counter i, bits 63:32, as latched by the last read of STAT_LO[i]. */
#define VNIC_REG_STAT_HI(i) (0x4004u + (i) * 0x0008u)
#define VNIC_REG_STAT_HI_COUNT 34u
#define VNIC_REG_STAT_HI_STRIDE 0x0008u
#define VNIC_REG_STAT_HI_RESET 0x00000000u
/* STAT_HI.VALUE: Counter half (see the counter table). */
#define VNIC_STAT_HI_VALUE_SHIFT 0u
#define VNIC_STAT_HI_VALUE_WIDTH 32u
#define VNIC_STAT_HI_VALUE_MASK 0xFFFFFFFFu

/* MSIX_ADDR_LO (RW): MSI-X table: message address, low half. */
#define VNIC_REG_MSIX_ADDR_LO(i) (0x6000u + (i) * 0x0010u)
#define VNIC_REG_MSIX_ADDR_LO_COUNT 9u
#define VNIC_REG_MSIX_ADDR_LO_STRIDE 0x0010u
#define VNIC_REG_MSIX_ADDR_LO_RESET 0x00000000u
/* MSIX_ADDR_LO.ADDR_LO: Message address bits 31:2 (bits 1:0 read 0). */
#define VNIC_MSIX_ADDR_LO_ADDR_LO_SHIFT 2u
#define VNIC_MSIX_ADDR_LO_ADDR_LO_WIDTH 30u
#define VNIC_MSIX_ADDR_LO_ADDR_LO_MASK 0xFFFFFFFCu

/* MSIX_ADDR_HI (RW): MSI-X table: message address, high half. */
#define VNIC_REG_MSIX_ADDR_HI(i) (0x6004u + (i) * 0x0010u)
#define VNIC_REG_MSIX_ADDR_HI_COUNT 9u
#define VNIC_REG_MSIX_ADDR_HI_STRIDE 0x0010u
#define VNIC_REG_MSIX_ADDR_HI_RESET 0x00000000u
/* MSIX_ADDR_HI.ADDR_HI: Message address bits 63:32. */
#define VNIC_MSIX_ADDR_HI_ADDR_HI_SHIFT 0u
#define VNIC_MSIX_ADDR_HI_ADDR_HI_WIDTH 32u
#define VNIC_MSIX_ADDR_HI_ADDR_HI_MASK 0xFFFFFFFFu

/* MSIX_DATA (RW): MSI-X table: message data. */
#define VNIC_REG_MSIX_DATA(i) (0x6008u + (i) * 0x0010u)
#define VNIC_REG_MSIX_DATA_COUNT 9u
#define VNIC_REG_MSIX_DATA_STRIDE 0x0010u
#define VNIC_REG_MSIX_DATA_RESET 0x00000000u
/* MSIX_DATA.DATA: Message data, written as 4 bytes. */
#define VNIC_MSIX_DATA_DATA_SHIFT 0u
#define VNIC_MSIX_DATA_DATA_WIDTH 32u
#define VNIC_MSIX_DATA_DATA_MASK 0xFFFFFFFFu

/* MSIX_VCTRL (RW): MSI-X table: vector control (masked at power-on). */
#define VNIC_REG_MSIX_VCTRL(i) (0x600Cu + (i) * 0x0010u)
#define VNIC_REG_MSIX_VCTRL_COUNT 9u
#define VNIC_REG_MSIX_VCTRL_STRIDE 0x0010u
#define VNIC_REG_MSIX_VCTRL_RESET 0x00000001u
/* MSIX_VCTRL.MASK: Vector masked: a message waits in the PBA. */
#define VNIC_MSIX_VCTRL_MASK_SHIFT 0u
#define VNIC_MSIX_VCTRL_MASK_WIDTH 1u
#define VNIC_MSIX_VCTRL_MASK_MASK 0x00000001u

/* MSIX_PBA (RO): MSI-X pending bit array. */
#define VNIC_REG_MSIX_PBA 0x7000u
#define VNIC_REG_MSIX_PBA_RESET 0x00000000u
/* MSIX_PBA.PENDING: Bit v: vector v has a message held back by a mask. */
#define VNIC_MSIX_PBA_PENDING_SHIFT 0u
#define VNIC_MSIX_PBA_PENDING_WIDTH 9u
#define VNIC_MSIX_PBA_PENDING_MASK 0x000001FFu

/* Interrupt cause bits of queue pair i (ICR, write 1 to clear). */
#define VNIC_ICR_RXQ_BIT(i) (1u << (VNIC_ICR_RXQ_SHIFT + (i)))
#define VNIC_ICR_TXQ_BIT(i) (1u << (VNIC_ICR_TXQ_SHIFT + (i)))

/* STATUS.SPEED codes. */
#define VNIC_STATUS_SPEED_NONE 0u                /* Link down. */
#define VNIC_STATUS_SPEED_1G 1u                  /* 1000 Mb/s. */
#define VNIC_STATUS_SPEED_10G 2u                 /* 10000 Mb/s. */
#define VNIC_STATUS_SPEED_25G 3u                 /* 25000 Mb/s. */
#define VNIC_STATUS_SPEED_40G 4u                 /* 40000 Mb/s. */
#define VNIC_STATUS_SPEED_100G 5u                /* 100000 Mb/s. */

/* RXQ_STATUS/TXQ_STATUS.ERR_CODE values. */
#define VNIC_Q_ERR_NONE 0u
#define VNIC_Q_ERR_DMA 1u                        /* A DMA access was refused. */
#define VNIC_Q_ERR_RING_CFG 2u                   /* Bad ring configuration. */

/* Statistics counters: counter i is VNIC_REG_STAT_LO(i) (read first: latches the high half)
 * and VNIC_REG_STAT_HI(i). Names are the ethtool -S names. */
#define VNIC_NUM_STATS 34u
#define VNIC_STAT_RX_PACKETS 0u                  /* Frames delivered to host memory. */
/* Bytes delivered to host memory (without FCS unless RX_FCS). */
#define VNIC_STAT_RX_BYTES 1u
#define VNIC_STAT_TX_PACKETS 2u                  /* Frames sent on the wire. */
/* Bytes sent on the wire (frame without preamble, with FCS). */
#define VNIC_STAT_TX_BYTES 3u
#define VNIC_STAT_RX_BROADCAST 4u                /* Broadcast frames delivered. */
#define VNIC_STAT_RX_MULTICAST 5u                /* Multicast frames delivered. */
#define VNIC_STAT_RX_CRC_ERRORS 6u               /* Frames dropped for a bad FCS. */
/* Frames dropped as runt, oversize, or larger than the RX buffer. */
#define VNIC_STAT_RX_LENGTH_ERRORS 7u
#define VNIC_STAT_RX_FILTERED 8u                 /* Frames dropped by the MAC address filter. */
#define VNIC_STAT_RX_MISSED_ERRORS 9u            /* Frames dropped: no free RX descriptor. */
/* Frames dropped: their RX data or write-back DMA was refused (queue stopped). */
#define VNIC_STAT_RX_DMA_ERRORS 10u
/* Frames dropped: device or RX queue not running, or revoked by a queue disable or reset before
 * their write-back landed. */
#define VNIC_STAT_RX_DROPPED_DISABLED 11u
/* Frames dropped: malformed TX descriptor chain. */
#define VNIC_STAT_TX_DESC_ERRORS 12u
/* Frames dropped: their TX data fetch was refused (queue stopped). */
#define VNIC_STAT_TX_DMA_ERRORS 13u
/* Descriptor fetches or write-backs refused by host memory (queue stopped). */
#define VNIC_STAT_DESC_DMA_ERRORS 14u
#define VNIC_STAT_TX_DROPPED_LINK_DOWN 15u       /* Frames dropped: link down at transmit. */
/* Tail writes beyond the ring size, or moving the tail backwards (ignored). */
#define VNIC_STAT_TAIL_ERRORS 16u
/* Queue enables refused: bad ring size, base, buffer size, or a tail beyond the size. */
#define VNIC_STAT_RING_CFG_ERRORS 17u
/* MMIO accesses refused (not 4 bytes, unaligned, no register) or bad values. */
#define VNIC_STAT_MMIO_ERRORS 18u
#define VNIC_STAT_MMIO_RO_WRITES 19u             /* Writes to read-only registers (ignored). */
/* MMIO accesses refused: Memory Space Enable is off in the command register. */
#define VNIC_STAT_MMIO_DISABLED 20u
/* Register writes ignored: a soft reset was still in progress (RESET_DONE 0). */
#define VNIC_STAT_MMIO_IN_RESET 21u
/* DMA transfers and interrupt messages refused: Bus Master Enable is off. */
#define VNIC_STAT_DMA_NO_BME 22u
/* Interrupts not sent: MSI-X is disabled in its capability. */
#define VNIC_STAT_IRQ_NO_MSIX 23u
/* Interrupt messages refused by the host (bad message address). */
#define VNIC_STAT_IRQ_MSG_ERRORS 24u
#define VNIC_STAT_IRQ_RX 25u                     /* RX completion interrupts raised. */
#define VNIC_STAT_IRQ_TX 26u                     /* TX completion interrupts raised. */
#define VNIC_STAT_IRQ_MISC 27u                   /* Link/error interrupts raised. */
#define VNIC_STAT_DMA_RD_TLPS 28u                /* DMA read requests issued. */
#define VNIC_STAT_DMA_RD_BYTES 29u               /* DMA bytes read. */
#define VNIC_STAT_DMA_WR_TLPS 30u                /* DMA write requests (posted) issued. */
#define VNIC_STAT_DMA_WR_BYTES 31u               /* DMA bytes written. */
/* Frames dropped: fetched but revoked by a TX queue disable or a reset before they left. */
#define VNIC_STAT_TX_DROPPED_DISABLED 32u
/* Device accesses refused: they arrived while the device was inside its own DMA (peer-to-peer to
 * its BAR). */
#define VNIC_STAT_DMA_REENTRY 33u

/* Descriptors: the ring entries at RXQ_BASE/TXQ_BASE. */
#define VNIC_DESC_SIZE 16u

/* TX descriptor: 16 bytes, little endian; reserved bytes are 0. */
#define VNIC_TXD_BUF_ADDR_OFF 0u                 /* Host address of the data. */
#define VNIC_TXD_BUF_ADDR_SIZE 8u
#define VNIC_TXD_LENGTH_OFF 8u                   /* Bytes in this buffer (1..16383). */
#define VNIC_TXD_LENGTH_SIZE 2u
#define VNIC_TXD_CMD_OFF 10u                     /* Written by the driver: EOP, RS. */
#define VNIC_TXD_CMD_SIZE 1u
#define VNIC_TXD_STATUS_OFF 12u                  /* Written back by the device: DD. */
#define VNIC_TXD_STATUS_SIZE 1u
#define VNIC_TXD_ERRORS_OFF 13u                  /* Written back by the device: DESC, DMA. */
#define VNIC_TXD_ERRORS_SIZE 1u
#define VNIC_TXD_CMD_EOP 0x01u                   /* Last buffer of the frame. */
/* Report status: write back DD (honoured on the EOP descriptor). */
#define VNIC_TXD_CMD_RS 0x02u
#define VNIC_TXD_STATUS_DD 0x01u                 /* Descriptor done. */
#define VNIC_TXD_ERRORS_DESC 0x01u               /* Frame dropped: malformed descriptor chain. */
#define VNIC_TXD_ERRORS_DMA 0x02u                /* Frame dropped: its data fetch was refused. */

/* RX descriptor: 16 bytes, little endian; reserved bytes are 0. */
/* Host address of an RX buffer of RXQ_BUF_SIZE bytes (kept on write-back). */
#define VNIC_RXD_BUF_ADDR_OFF 0u
#define VNIC_RXD_BUF_ADDR_SIZE 8u
#define VNIC_RXD_LENGTH_OFF 8u                   /* Written back: bytes written to the buffer. */
#define VNIC_RXD_LENGTH_SIZE 2u
#define VNIC_RXD_STATUS_OFF 10u                  /* Written back: DD, EOP, BCAST, MCAST, FCS. */
#define VNIC_RXD_STATUS_SIZE 2u
#define VNIC_RXD_ERRORS_OFF 12u                  /* Written back: FCS, LENGTH. */
#define VNIC_RXD_ERRORS_SIZE 2u
#define VNIC_RXD_STATUS_DD 0x01u                 /* Descriptor done. */
#define VNIC_RXD_STATUS_EOP 0x02u                /* Last buffer of the frame. */
#define VNIC_RXD_STATUS_BCAST 0x04u              /* Broadcast destination. */
#define VNIC_RXD_STATUS_MCAST 0x08u              /* Multicast destination. */
/* The data ends with the 4-byte FCS (RX_CTRL.RX_FCS). */
#define VNIC_RXD_STATUS_FCS 0x10u
#define VNIC_RXD_ERRORS_FCS 0x01u                /* Bad CRC (delivered only with RX_CTRL.RX_ALL). */
/* Runt or oversize (delivered only with RX_CTRL.RX_ALL). */
#define VNIC_RXD_ERRORS_LENGTH 0x02u

#endif /* VNIC_REGS_H */
