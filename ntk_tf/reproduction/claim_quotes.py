"""The papers' sentences behind each claim, for the reproduction page.

Copied verbatim from the papers' texts (runs of whitespace collapsed; "[…]" marks an omitted
formula or clause, " … " joins sentences), with the section or figure they are from.
"""

QUOTES = {
    'samarin2020.1': dict(
        quote=('For the standard width a substantial difference of ~ 6.5 percentage points in '
               'generalization error between LeNet and LinLeNet is observed. While LeNet does not '
               'gain appreciably from increasing the width, LinLeNet does, and the gap shrinks to '
               '… ~ 0.5 percentage points for width factor $\\times 60$.'),
        where=('§3.2 (text around Figs. 3/4; the sentence is split by the Fig. 4 table in the '
               'file); numbers in Fig. 3 table and Table 1')),
    'samarin2020.2': dict(
        quote=('For the standard width a difference of ~ 20 percentage points in generalization '
               'error between LeNet and LinLeNet is observed. This shrinks to a smaller but still '
               'significant gap of ~ 13 percentage points at width factor $\\times 60$. … The '
               'closing of the gap suggests that at width factor $\\times 60$ feature learning is '
               'not very significant for MNIST, but remains significant for the more complex '
               'CIFAR-10 dataset, which is consistent with the intuitive view that more complex '
               'datasets require more significant feature learning.'),
        where=('§3.2 (CIFAR-10 paragraph after Fig. 4, and the paragraph after Fig. 5); numbers in'
               ' Fig. 4 table / Table 1')),
    'samarin2020.3': dict(
        quote=('The standard-width linearized networks also achieve low train accuracy at 92.9% '
               'for LeNet on MNIST, 42.9% for LeNet on CIFAR-10 and 54.7% for linearized AlexNet '
               'on a subset of ImageNet. For wider linearized model the gap in both test and train'
               ' performance closes, but remains large except for LeNet on MNIST. … For factor '
               '$\\times 1$ the linearized model performs essentially like logistic regression on '
               'normalized MNIST pixels, which achieves about 93% train and 92% test accuracy.'),
        where=('§1.1 (contributions) and §3.2 (after Fig. 4); per-width train numbers in Figs. 3/4'
               ' tables')),
    'samarin2020.4': dict(
        quote=('Trained with the same hyperparameters as their non-linearized counterparts, which '
               'would be appropriate if the model training trajectories stay close together, the '
               'gap in generalization error between standard (non-linearized) AlexNet $\\times 1$ '
               'and linearized AlexNet $\\times 1$ is very large at ~ 25 percentage points. … The '
               'generalization gap with the non-linearized models shrinks to ~ 18 percentage '
               'points both for the standard width $\\times 1$ and for width factor $\\times 4$. … '
               'For the linearized models the train accuracies are very low at all widths.'),
        where=('§3.3 and Fig. 6 table')),
    'samarin2020.5': dict(
        quote=('Figure 1 provides an overview of the dataset and benchmark performance results '
               'indicating that training with L^2 loss performs on par with cross-entropy loss (in'
               ' both settings no dropout is used). … Training AlexNet on the snakes dataset with '
               'L^2 loss performs on a par with cross-entropy loss, both exceeding the top-1 test '
               'accuracy of pre-trained AlexNet (trained on full ImageNet).'),
        where=('§3 (first paragraph) and Fig. 1 caption/inline table')),
    'samarin2020.6': dict(
        quote=('We see that the trajectories immediately diverge at (standard) width factor '
               '$\\times 1$. For larger width factors the curves behave increasingly similarly. … '
               'Certainly for width factors $\\times 1$, $\\times 3$, and $\\times 5$ our results '
               'show that LeNet is not well-modeled by NTK theory in the strict sense of training '
               'trajectories of non-linearized and linearized models staying close.'),
        where=('§3.1 and Fig. 2 caption')),
    'samarin2020.7': dict(
        quote=('Moreover, even for wider networks it appears that A remains effectively of low '
               'rank. We show this by computing the effective rank [20] of the matrix for 600 data'
               ' points and each width factor. These effective ranks are much lower than the '
               'number of rows which is 6000, and increases with width factor as is illustrated in'
               ' Figure 5.'),
        where=('§3.2 (paragraph before Fig. 5) and Fig. 5 caption; AlexNet: §3.3')),
    'samarin2022.1': dict(
        quote=('For the stan- dard width, a substantial difference of 4.67 percentage points in '
               '(mean) test error between LeNet and LinLeNet is observed. While LeNet does not '
               'gain appreciably from increasing the width, LinLeNet does, and the gap shrinks to '
               '0.48 percentage points for width factor 60. … But with increased over-'
               'parameterization, these gaps indeed shrink as predicted by NTK theory.'),
        where=('§4.1 (MNIST paragraph after Fig. 2; summary paragraph after Fig. 5)')),
    'samarin2022.2': dict(
        quote=('When training on the more challenging CIFAR-10 dataset even larger gaps are '
               'observed, as shown in Fig. 4. … With increasing problem difficulty, the increasing'
               ' gap between linearized and standard LeNet and AlexNet suggests that at standard '
               'widths significant feature learning is taking place in the standard (non-'
               'linearized) model. … By considering different classification tasks of increasing '
               'difficulty, we showed that the performance gaps increase accordingly suggesting '
               'that richer features need to be learned, which the effectively random feature '
               'models LinLeNet and LinAlexNet cannot provide.'),
        where=('§4.1 (CIFAR-10 paragraph; summary paragraph) and §5 Conclusion')),
    'samarin2022.3': dict(
        quote=('Interestingly, LinLeNet×60 outperforms standard width LeNet×1 in both training and'
               ' test error (gray dashed line). … In particular, we show agreement in performance '
               'of standard networks and their linearization as well as an instance where a wide '
               'LinLeNet(×60) outperforms its standard width LeNet(×1) on CIFAR-10.'),
        where=('§4.1 (CIFAR-10 paragraph, Fig. 4) and §5 Conclusion')),
    'samarin2022.4': dict(
        quote=('However, from a width factor of 5 on, we observe for LinLeNet in the standard '
               'MNIST task that the linearized networks start agreeing (up to the second decimal '
               'place) with the results of the corresponding LeNet. In particular, LinLeNet×60 '
               'matches the train and test results of LeNet at all considered widths, which is in '
               'agreement with NTK theory. … In comparison to the harder multiclass task, the gap '
               'in training accuracy between LeNet and LinLeNet is greatly reduced but persists '
               'for the less wide networks, especially for LinLeNet×1 in the translated MNIST '
               'task.'),
        where=("§4.3 'Solving the linear system with SGD', Tables 1 and 2")),
    'samarin2022.5': dict(
        quote=('Interestingly, the solver attains perfect training accuracy in all considered '
               'cases, but at the cost of a diminished test accuracy for LinLeNet×1 in standard '
               'MNIST (see Table 1) and, particularly, in translated MNIST (see Table 2), '
               'indicating overfitting of the solver solution. … In the standard MNIST task, the '
               'attained solver solutions for LinLeNetx2 and LinLeNetx5 match the test accuracies '
               'of their corresponding standard LeNets at otherwise 100% train accuracy.'),
        where=("§4.3 'Solving the linear system with a standard solver', Tables 1 and 2")),
    'samarin2022.6': dict(
        quote=('For LinLeNet and considering MNIST samples, these effective ranks are much lower '
               'than the number of rows, i.e. 6000, and increase with width factor as illustrated '
               'in Fig. 6 (left). A similar but less pronounced improvement in effective rank with'
               ' width is obtained for MNIST samples with additional random translation of up to 7'
               ' pixels. … We observe that increasing the width effectively increases the smallest'
               ' (non-vanishing) singular values of matrix […] and generally leads to a lower '
               'condition number (i.e. ratio […] ), for this matrix, thereby improving numerical '
               'properties.'),
        where=('§4.2 Numerical aspects (text around Figs. 6 and 7)')),
    'vyas2022.1': dict(
        quote=('We then numerically fit scaling laws, and find, scaling-exponents β of: .185 '
               '(empirical NTK), .213 (infinite NTK), .307 (neural network). Thus, in this image-'
               'classification setting, the real neural network significantly outperforms its '
               'corresponding NTKs with respect to data-scaling. … The scaling constants in Figure'
               ' 9(a) are .28, .22 and .19 for the neural network, infinite NTK and the empirical '
               'NTK at initialization respectively.'),
        where=('§3 (Fig. 1(A)); App. E (Fig. 9(a), SVHN-parity)')),
    'vyas2022.2': dict(
        quote=('We find that these networks behaved similarly with respect to their scaling '
               'constants (.276 and .279 respectively), and performed better than the infinite '
               'width NTK (scaling constant: .213), confirming that real neural networks are far '
               'from the NTK regime. … The scaling constants are .333, .262, .213 for the 3x '
               'higher learning rate, 10x lower learning rate and the infinite neural network. … '
               'The scaling constants for neural networks in Figure 3(b), 3(c), 3(d) are .294, '
               '.310 and .292 respectively.'),
        where=("§3 'Effect of Width' (Fig. 2(a)), 'Effect of Learning Rate' (Fig. 3(a)), 'Other "
               "Changes in Optimization' (Figs. 3(b)-(d))")),
    'vyas2022.3': dict(
        quote=('In Figure 6(a) we repeat Figure 1 except that we train the neural network with '
               'learning rate .004. The measured scaling constants are reasonably close by: .204, '
               '.185, .213 for the Myrtle-CNN, its empirical NTK and infinite NTK respectively. … '
               'This leads to a significant drop in the performance and the scaling constant of '
               'the neural network.'),
        where=("App. B 'Effect of Very Low Learning rate' and Fig. 6 caption")),
    'vyas2022.4': dict(
        quote=('[…]in Figure 2(b) we plot the expected performance of Empirical NTK at '
               'Initialization and Neural network as we increase the width, using a fixed training'
               ' size of 4000. Here we see that (a) the Empirical NTK at Initialization continues '
               'to improve with larger width and approaches the infinite NTK’s error from above, '
               'while (b) the neural network improves initially and then starts to deteriorate and'
               ' approach the infinite NTK’s error from below. … In this setup it was '
               'computationally feasible to try out much larger width (upto 4096) with a smaller '
               'training size of 1000.'),
        where=("§3 'Effect of Width' (Figs. 2(b), 2(c)); App. A.4; App. D (Fig. 8)")),
    'vyas2022.5': dict(
        quote=('We observe that Km (500) improves as m goes from 500 to 1024k showing that the '
               'after-kernel keeps improving with larger dataset sizes. … In Figure 4(b) we plot '
               'the data scaling curves for the base Myrtle-CNN, its empirical NTK at '
               'initialization, K16k , K64k with scaling constants .307, .185, .103, .097 '
               'respectively. We find that the neural network has the best scaling constant.'),
        where=('§4.1 (Figs. 4(b), 4(c))')),
    'vyas2022.6': dict(
        quote=('Our main claim is that the test error of Kft it as a function of time t is '
               'approximately linear on a log-log scale, throughout the course of training. … This'
               ' only lasts for around 140 batches ≈ 0.5 epochs2 . … As they diverge, the '
               'extracted kernel Kft it also starts to improve with a constant slope, and this '
               'improvement continues uniformly until the terminal stage of training.'),
        where=('§5.1 Results (Fig. 5(a)); Fig. 5 caption')),
    'vyas2022.7': dict(
        quote=('While we do not do this for the experiments in the paper, we verify in Table 1 '
               'that this makes almost not difference for Figure 1. … To verify that this '
               'difference is not the cause of better performance of neural networks we ran the '
               'experiment in Figure 1 with 64 bit precision for train size of 64k. The test error'
               ' actually improved, test error with optimal early stopping was .03993 while it was'
               ' .04118 at 32 bit precision.'),
        where=("App. A.4 ('Starting with 0 output neural networks', '64 bit versus 32 bit "
               "precision'), Table 1")),
    'arora2019.1': dict(
        quote=('First, CNTKs are very powerful kernels. The best kernel, 11-layer CNTK with GAP, '
               'achieves 77.43% classification accuracy on CIFAR-10. This results in a significant'
               ' new benchmark for performance of a pure kernel-based method on CIFAR-10, being '
               '10% higher than methods reported in [Novak et al., 2019].'),
        where=("§5 Experiments, 'Results' (first comment); Table 1")),
    'arora2019.2': dict(
        quote=('Fourth, we find that there is still a 5% - 6% performance gap between CNTKs and '
               'CNNs. Since CNTKs exactly correspond to infinitely wide CNNs, this performance gap'
               ' implies that finite width has its benefits.'),
        where=("§5 Experiments, 'Results' (fourth comment); Abstract; Table 1")),
    'arora2019.3': dict(
        quote=('Third, the global average pooling operation can significantly increase the '
               'classification accuracy by 8% - 10% for both CNN and CNTK. Based on this finding, '
               'we expect that many techniques that improve the performance of neural networks are'
               ' in some sense universal, i.e., these techniques can also benefit kernel methods.'),
        where=("§5 Experiments, 'Results' (third comment); Table 1")),
    'arora2019.4': dict(
        quote=('Second, we find that for both CNN and CNTK, depth can affect the classification '
               'accuracy. This observation demonstrates that depth not only matters in deep neural'
               ' networks but can also affect the performance of CNTKs.'),
        where=("§5 Experiments, 'Results' (second comment); Table 1")),
    'arora2019.5': dict(
        quote=('Finally, we find that performances of CNTKV-2Ks and CNTK-GAP-2Ks are highly '
               'correlated to their CNN-V, CNTK-V, CNN-GAP and CNTKGAP counterparts. Again we see '
               'CNTK-GAP-2Ks outperform CNTK-V-2Ks by a large margin (about 8% - 9%). One '
               'potential application of this observation is to guide neural architecture search.'),
        where=("§5 'Potential application in neural architecture search'; Table 1 caption")),
}
