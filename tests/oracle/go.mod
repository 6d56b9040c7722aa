module gosymoracle

go 1.21
