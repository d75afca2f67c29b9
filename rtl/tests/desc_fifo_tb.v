// Self-checking Icarus testbench for desc_fifo: a behavioural queue in plain Verilog (sharing
// no code with the C++ model) checks every output after every clock edge under seeded random
// push/pop/reset, with phases that drive the FIFO full and empty. Prints PASS or FAIL.
`default_nettype none

module desc_fifo_tb;
    parameter integer DEPTH = 16;
    parameter integer WIDTH = 64;
    parameter integer CYCLES = 200000;
    localparam integer AW = $clog2(DEPTH);

    reg clk = 1'b0;
    reg rst = 1'b1;
    reg push = 1'b0;
    reg pop = 1'b0;
    reg [WIDTH-1:0] din = {WIDTH{1'b0}};
    wire [WIDTH-1:0] dout;
    wire full, empty, overflow, underflow;
    wire [AW:0] count;

    desc_fifo #(.DEPTH(DEPTH), .WIDTH(WIDTH)) dut (
        .clk(clk), .rst(rst), .push(push), .din(din), .pop(pop), .dout(dout),
        .full(full), .empty(empty), .count(count), .overflow(overflow), .underflow(underflow));

    // Reference: a circular queue with an explicit occupancy counter (not pointer MSBs).
    reg [WIDTH-1:0] q [0:DEPTH-1];
    integer head, n, i, errors, seed, cycle, phase_left, push_pct, pop_pct;
    reg ref_ovf, ref_unf, do_pop, do_push;
    integer hits_full, hits_empty, hits_ovf, hits_unf;

    always #5 clk = ~clk;

    task check;
        begin
            if (count !== n[AW:0] || full !== (n == DEPTH) || empty !== (n == 0) ||
                overflow !== ref_ovf || underflow !== ref_unf ||
                dout !== (n == 0 ? {WIDTH{1'b0}} : q[head])) begin
                errors = errors + 1;
                if (errors <= 5)
                    $display("FAIL cycle %0d: dut count=%0d full=%b empty=%b ovf=%b unf=%b dout=%h | ref n=%0d ovf=%b unf=%b head=%h",
                             cycle, count, full, empty, overflow, underflow, dout, n, ref_ovf, ref_unf,
                             n == 0 ? {WIDTH{1'b0}} : q[head]);
            end
        end
    endtask

    initial begin
        seed = 12345 + DEPTH;
        head = 0; n = 0; errors = 0; ref_ovf = 0; ref_unf = 0;
        hits_full = 0; hits_empty = 0; hits_ovf = 0; hits_unf = 0;
        phase_left = 0; push_pct = 50; pop_pct = 50;
        @(negedge clk);
        @(negedge clk);
        rst = 1'b0;
        for (cycle = 0; cycle < CYCLES; cycle = cycle + 1) begin
            if (phase_left == 0) begin
                phase_left = 1 + ({$random(seed)} % (4 * DEPTH + 16));
                case ({$random(seed)} % 4)
                    0: begin push_pct = 90; pop_pct = 10; end
                    1: begin push_pct = 10; pop_pct = 90; end
                    2: begin push_pct = 50; pop_pct = 50; end
                    default: begin push_pct = 100; pop_pct = 100; end
                endcase
            end
            phase_left = phase_left - 1;
            // Drive inputs on the falling edge, check after the rising edge.
            rst  = ({$random(seed)} % 5000) == 0;
            push = ({$random(seed)} % 100) < push_pct;
            pop  = ({$random(seed)} % 100) < pop_pct;
            for (i = 0; i < WIDTH; i = i + 32)
                din = (din << 32) | {$random(seed)};
            @(posedge clk);
            if (rst) begin
                head = 0; n = 0; ref_ovf = 0; ref_unf = 0;
            end else begin
                do_pop = pop && (n > 0);
                do_push = push && (n < DEPTH || do_pop);
                if (pop && n == 0) begin ref_unf = 1; hits_unf = hits_unf + 1; end
                if (push && !do_push) begin ref_ovf = 1; hits_ovf = hits_ovf + 1; end
                if (do_push) q[(head + n) % DEPTH] = din;
                if (do_pop) begin head = (head + 1) % DEPTH; n = n - 1; end
                if (do_push) n = n + 1;
            end
            if (n == DEPTH) hits_full = hits_full + 1;
            if (n == 0) hits_empty = hits_empty + 1;
            #1 check;
            @(negedge clk);
        end
        if (hits_full == 0 || hits_empty == 0 || hits_ovf == 0 || hits_unf == 0) begin
            $display("FAIL coverage: full=%0d empty=%0d overflow=%0d underflow=%0d", hits_full, hits_empty, hits_ovf, hits_unf);
            errors = errors + 1;
        end
        if (errors == 0)
            $display("PASS desc_fifo DEPTH=%0d WIDTH=%0d: %0d cycles (full %0d, empty %0d, push-when-full %0d, pop-when-empty %0d)",
                     DEPTH, WIDTH, CYCLES, hits_full, hits_empty, hits_ovf, hits_unf);
        else
            $display("FAIL desc_fifo DEPTH=%0d WIDTH=%0d: %0d mismatches", DEPTH, WIDTH, errors);
        $finish;
    end
endmodule

`default_nettype wire
