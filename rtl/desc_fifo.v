// vnic on-chip descriptor FIFO: the prefetch cache between descriptor fetch and use.
//
// Synchronous, single clock, first-word fall-through. Matches vnic::model::DescFifo edge for
// edge (model/include/vnic/model/desc_fifo.hpp); docs/rtl.md has the ports and a timing diagram.
//
//   rst              : count 0, pointers 0, overflow and underflow cleared (push/pop ignored)
//   pop  && empty    : underflow <= 1, nothing else changes
//   pop  && !empty   : the head entry is removed
//   push && full && !pop accepted : overflow <= 1, nothing else changes
//   push otherwise   : din is appended (at full, a push and a pop in one edge both happen)
//
// The pointers carry one extra MSB so all DEPTH entries can be used:
//   empty = (wr_ptr == rd_ptr), full = (wr_ptr ^ rd_ptr) == DEPTH.
//
// VNIC_FIFO_BREAK_FULL (a define) makes a deliberately broken variant whose full flag rises
// one entry early; the lock-step tests use it to show that they can fail.

`default_nettype none

module desc_fifo #(
    parameter integer DEPTH = 64,   // entries, a power of two >= 2
    parameter integer WIDTH = 128   // bits per entry, 1..1024
) (
    input  wire             clk,
    input  wire             rst,        // synchronous, active high
    input  wire             push,
    input  wire [WIDTH-1:0] din,
    input  wire             pop,
    output wire [WIDTH-1:0] dout,       // head entry; zero when empty
    output wire             full,
    output wire             empty,
    output wire [$clog2(DEPTH):0] count,
    output reg              overflow,   // sticky until rst
    output reg              underflow   // sticky until rst
);

    localparam integer AW = $clog2(DEPTH);

    // Elaboration-time parameter checks: an unknown module stops every tool with its name.
    generate
        if (DEPTH < 2 || (DEPTH & (DEPTH - 1)) != 0) begin : g_bad_depth
            desc_fifo_error_DEPTH_must_be_a_power_of_two_at_least_2 bad_depth ();
        end
        if (WIDTH < 1 || WIDTH > 1024) begin : g_bad_width
            desc_fifo_error_WIDTH_must_be_1_to_1024 bad_width ();
        end
    endgenerate

    reg [WIDTH-1:0] mem [0:DEPTH-1];
    reg [AW:0]      wr_ptr;
    reg [AW:0]      rd_ptr;

    assign empty = (wr_ptr == rd_ptr);
`ifdef VNIC_FIFO_BREAK_FULL
    localparam [AW:0] ONE_EARLY = DEPTH[AW:0] - 1'b1;
    assign full  = (count == ONE_EARLY);
`else
    assign full  = ((wr_ptr ^ rd_ptr) == {1'b1, {AW{1'b0}}});
`endif
    assign count = wr_ptr - rd_ptr;
    assign dout  = empty ? {WIDTH{1'b0}} : mem[rd_ptr[AW-1:0]];

    wire do_pop  = pop && !empty;
    wire do_push = push && (!full || do_pop);

    always @(posedge clk) begin
        if (rst) begin
            wr_ptr    <= {(AW+1){1'b0}};
            rd_ptr    <= {(AW+1){1'b0}};
            overflow  <= 1'b0;
            underflow <= 1'b0;
        end else begin
            if (pop && empty)
                underflow <= 1'b1;
            if (push && !do_push)
                overflow <= 1'b1;
            if (do_push)
                wr_ptr <= wr_ptr + 1'b1;
            if (do_pop)
                rd_ptr <= rd_ptr + 1'b1;
        end
    end

    // The storage has no reset: only entries between the pointers are ever read.
    always @(posedge clk) begin
        if (!rst && do_push)
            mem[wr_ptr[AW-1:0]] <= din;
    end

endmodule

`default_nettype wire
