// Direct computations of what the causal samples generate, to check the traces the compiled
// models and the interpreter produce. Each sample is computed from its meaning (counting,
// running the machine, applying the rule), not from the RASP program's lookups.
//
// Usage: trace_reference <sample> <prompt> <n>
//   Prints the first n tokens generated after the prompt, as `raspc run --generate` prints
//   them after the prompt: characters run together for string vocabularies, each number
//   preceded by a space for number vocabularies. Samples: binary_counter, counter_machine,
//   cellular_automaton, fibonacci_mod3.
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

/// Hands out generated tokens until `count` of them have been written.
class Sink {
public:
    explicit Sink(long count) : left_(count) {}
    bool full() const { return left_ <= 0; }
    void text(char c) {
        if (full()) return;
        out_.push_back(c);
        --left_;
    }
    void number(int v) {
        if (full()) return;
        out_ += ' ';
        out_ += std::to_string(v);
        --left_;
    }
    const std::string& str() const { return out_; }

private:
    long left_;
    std::string out_;
};

std::vector<int> parseNumbers(const std::string& prompt) {
    std::vector<int> out;
    std::istringstream in(prompt);
    std::string word;
    while (in >> word) {
        int v = 0;
        auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), v);
        if (ec != std::errc() || end != word.data() + word.size())
            throw std::runtime_error("not a number in the prompt: '" + word + "'");
        out.push_back(v);
    }
    return out;
}

/// The last complete item of a prompt made of items each closed by `marker`.
std::string lastItem(const std::string& prompt, char marker) {
    if (prompt.empty() || prompt.back() != marker)
        throw std::runtime_error(std::string("the prompt must end with '") + marker + "'");
    size_t start = prompt.find_last_of(marker, prompt.size() - 2);
    start = start == std::string::npos ? 0 : start + 1;
    return prompt.substr(start, prompt.size() - 1 - start);
}

// 0;1;10;11;... : each number is the previous one plus one, in binary.
void binaryCounter(const std::string& prompt, Sink& sink) {
    std::string number = lastItem(prompt, ';');
    for (char c : number) {
        if (c != '0' && c != '1') throw std::runtime_error("the number must be binary digits");
    }
    while (!sink.full()) {
        size_t zero = number.find_last_of('0');
        if (zero == std::string::npos) {
            number.assign(number.size() + 1, '0');
            number[0] = '1';
        } else {
            number[zero] = '1';
            for (size_t k = zero + 1; k < number.size(); ++k) number[k] = '0';
        }
        for (char c : number) sink.text(c);
        sink.text(';');
    }
}

// The register machine of samples/counter_machine.rasp, run directly: registers in an array,
// the program counter in a variable.
void counterMachine(const std::string& prompt, Sink& sink) {
    constexpr int kAddresses = 64, kValues = 64, kRegisters = 4;
    constexpr int kHalt = 500, kInc = 510, kDec = 520, kJz = 530, kJmp = 540, kRun = 600,
                  kStop = 700;
    struct Line {
        int op, arg;
    };

    std::vector<int> tokens = parseNumbers(prompt);
    if (tokens.empty() || tokens.back() != kRun)
        throw std::runtime_error("the prompt must end with 600");
    tokens.pop_back();
    std::vector<Line> program;
    size_t pos = 0;
    for (; pos + 2 < tokens.size() && tokens[pos] < kAddresses; pos += 3) {
        if (tokens[pos] != static_cast<int>(program.size()))
            throw std::runtime_error("line labels must count 0, 1, 2, ...");
        program.push_back({tokens[pos + 1], tokens[pos + 2]});
    }
    int reg[kRegisters] = {};
    for (; pos < tokens.size(); ++pos) {
        int t = tokens[pos];
        if (t < 100 || t >= 100 * (kRegisters + 1) || t % 100 >= kValues)
            throw std::runtime_error("after the program, only register writes and 600");
        reg[t / 100 - 1] = t % 100;
    }

    auto isInstruction = [](int op) {
        return op == kHalt || op == kJmp || (op >= kInc && op < kInc + kRegisters) ||
               (op >= kDec && op < kDec + kRegisters) || (op >= kJz && op < kJz + kRegisters);
    };
    // Each step names the line it goes to; going past the last line stops at once, and
    // jumping to a line that does not exist stops after naming it.
    int pc = 0;
    sink.number(pc);
    while (!sink.full()) {
        if (pc >= static_cast<int>(program.size()) || !isInstruction(program[pc].op)) break;
        const Line& line = program[pc];
        int operation = line.op - line.op % 10;
        int r = line.op % 10;
        if (operation == kInc || operation == kDec) {
            reg[r] = (reg[r] + (operation == kInc ? 1 : kValues - 1)) % kValues;
            sink.number(100 * (r + 1) + reg[r]);
            pc += 1;
            if (pc >= static_cast<int>(program.size())) break;
            sink.number(pc);
        } else if (operation == kJmp || (operation == kJz && reg[r] == 0)) {
            if (line.arg >= kAddresses) break;
            pc = line.arg;
            sink.number(pc);
        } else if (operation == kJz) {
            pc += 1;
            if (pc >= static_cast<int>(program.size())) break;
            sink.number(pc);
        } else {
            break;  // HALT
        }
    }
    while (!sink.full()) sink.number(kStop);
}

// Rows of an elementary cellular automaton, each closed by '|'; cells past the edges are dead.
void cellularAutomaton(const std::string& prompt, Sink& sink) {
    constexpr int kRule = 110;
    std::string row = lastItem(prompt, '|');
    if (row.empty()) throw std::runtime_error("the first row must not be empty");
    size_t first = prompt.find('|');
    if (first != row.size()) throw std::runtime_error("all rows of the prompt must be as wide");
    while (!sink.full()) {
        std::string next(row.size(), '.');
        for (size_t c = 0; c < row.size(); ++c) {
            int left = c > 0 && row[c - 1] == '#';
            int centre = row[c] == '#';
            int right = c + 1 < row.size() && row[c + 1] == '#';
            next[c] = (kRule >> (4 * left + 2 * centre + right)) & 1 ? '#' : '.';
        }
        row = next;
        for (char c : row) sink.text(c);
        sink.text('|');
    }
}

// Each number is the sum of the two before it, modulo 3.
void fibonacciMod3(const std::string& prompt, Sink& sink) {
    std::vector<int> tokens = parseNumbers(prompt);
    if (tokens.empty()) throw std::runtime_error("the prompt needs a number");
    int a = tokens.size() >= 2 ? tokens[tokens.size() - 2] : 0;
    int b = tokens.back();
    while (!sink.full()) {
        int c = (a + b) % 3;
        sink.number(c);
        a = b;
        b = c;
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::cerr << "usage: trace_reference <sample> <prompt> <n>\n";
        return 2;
    }
    const std::map<std::string, std::function<void(const std::string&, Sink&)>> samples = {
        {"binary_counter", binaryCounter},
        {"counter_machine", counterMachine},
        {"cellular_automaton", cellularAutomaton},
        {"fibonacci_mod3", fibonacciMod3},
    };
    auto it = samples.find(argv[1]);
    if (it == samples.end()) {
        std::cerr << "trace_reference: unknown sample '" << argv[1] << "'\n";
        return 2;
    }
    try {
        Sink sink(std::atol(argv[3]));
        it->second(argv[2], sink);
        std::cout << sink.str() << "\n";
    } catch (const std::exception& e) {
        std::cerr << "trace_reference: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
